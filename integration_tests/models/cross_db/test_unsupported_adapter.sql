{#- The one line a `default__` variant raises on an adapter the package does not support. -#}
select
    cast({{ profilemesh.sql_literal(profilemesh.unsupported_adapter_message('type_json', 'sqlserver')) }}
        as {{ dbt.type_string() }}) as message
