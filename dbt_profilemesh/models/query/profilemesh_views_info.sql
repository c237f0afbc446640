{#- Which storage schema version (and package version) the views were built for: the CLI reads
    the views only when this matches the store's version. -#}
select
    cast({{ profilemesh.views_schema_version() }} as integer) as schema_version,
    cast('{{ profilemesh.package_version() }}' as varchar(50)) as package_version
