{#- Values reach the engine's SQL only through sql_literal: quotes doubled, backslashes kept on
    PostgreSQL and DuckDB, NULL, numbers and booleans as SQL. -#}
{%- set values = ["plain", "O'Brien", "back\\slash", "it''s", none, 42, true] -%}
{%- for value in values %}
select {{ loop.index }} as id, cast({{ profilemesh.sql_literal(value) }} as {{ dbt.type_string() }}) as value
{% if not loop.last %}union all{% endif %}
{%- endfor %}
