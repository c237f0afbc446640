{#- The GRANT statements that let a role read the store, per warehouse (the operation is
    profilemesh_grant_read, in macros/commands/grants.sql). -#}
{% macro grant_read_sql(database, schema, role) %}
  {{- return(adapter.dispatch('grant_read_sql', 'profilemesh')(database, schema, role)) -}}
{% endmacro %}
{#- PostgreSQL: views run with their owner's rights, so SELECT on them is enough for the views; ALL
    TABLES covers views, the ledger and the storage tables. -#}
{% macro default__grant_read_sql(database, schema, role) %}
  {%- do profilemesh.require_supported_adapter('grant_read_sql') -%}
  {%- set s, r = adapter.quote(schema), adapter.quote(role) -%}
  {%- do return([
      'GRANT USAGE ON SCHEMA ' ~ s ~ ' TO ' ~ r,
      'GRANT SELECT ON ALL TABLES IN SCHEMA ' ~ s ~ ' TO ' ~ r,
      'ALTER DEFAULT PRIVILEGES IN SCHEMA ' ~ s ~ ' GRANT SELECT ON TABLES TO ' ~ r,
  ]) -%}
{% endmacro %}
{#- Snowflake: role names fold to upper case unquoted, as the catalog names do. -#}
{% macro snowflake__grant_read_sql(database, schema, role) %}
  {%- set d, r = adapter.quote(database.upper()), adapter.quote(role.upper()) -%}
  {%- set s = d ~ '.' ~ adapter.quote(schema.upper()) -%}
  {%- do return([
      'GRANT USAGE ON DATABASE ' ~ d ~ ' TO ROLE ' ~ r,
      'GRANT USAGE ON SCHEMA ' ~ s ~ ' TO ROLE ' ~ r,
      'GRANT SELECT ON ALL TABLES IN SCHEMA ' ~ s ~ ' TO ROLE ' ~ r,
      'GRANT SELECT ON ALL VIEWS IN SCHEMA ' ~ s ~ ' TO ROLE ' ~ r,
      'GRANT SELECT ON FUTURE TABLES IN SCHEMA ' ~ s ~ ' TO ROLE ' ~ r,
      'GRANT SELECT ON FUTURE VIEWS IN SCHEMA ' ~ s ~ ' TO ROLE ' ~ r,
  ]) -%}
{% endmacro %}
{% macro duckdb__grant_read_sql(database, schema, role) %}
  {%- do profilemesh.fail('DuckDB has no roles: who may read the store is who may read its file', 'usage') -%}
{% endmacro %}
