{#- Each row's `actual` equals its `expected` (NULL equals NULL): the dbt-utils style of testing a
    macro, one input per row of a seed. -#}
{% test equal_columns(model, actual, expected) %}
  select *
  from {{ model }}
  where not ({{ actual }} = {{ expected }} or ({{ actual }} is null and {{ expected }} is null))
{% endtest %}
