{#- A model standing for the table the seeded store profiled (shop.orders): the package's generic
    tests read the store, not this model. -#}
select 1 as id
