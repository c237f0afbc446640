{#- dbt run-operation profilemesh_grant_read --args '{role: bi_reader}'
    Lets a role read the store: the query views, the ledger (which the CLI reads for the version) and the
    storage tables (which `query` reads on a store one version behind), now and, for what the running
    role creates later, in the future. Read only: nothing here lets the role write. `profilemesh migrate
    apply --grant-read ROLE` runs it after the views are built. docs/configuration.md, Permissions. -#}
{% macro profilemesh_grant_read(role=none) %}
  {%- if not role or not (role | string | trim) -%}
    {%- do profilemesh.fail('grant_read needs a role: --args "{role: bi_reader}"', 'usage') -%}
  {%- endif -%}
  {%- set relation = profilemesh.storage_relation('runs') -%}
  {%- set ctx = {'statements': [], 'dry_run': false} -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- for sql in profilemesh.grant_read_sql(relation.database, relation.schema, role | string | trim) -%}
    {%- do profilemesh.run_sql(ctx, sql) -%}
  {%- endfor -%}
  {%- do profilemesh.commit(ctx) -%}
  {%- do profilemesh.say('granted ' ~ role ~ ' read access to ' ~ relation.schema) -%}
  {%- do profilemesh.emit('result', {'operation': 'grant_read', 'role': role | string | trim, 'statements': ctx.statements}) -%}
{% endmacro %}

{% macro grant_read_sql(database, schema, role) %}
  {{- return(adapter.dispatch('grant_read_sql', 'profilemesh')(database, schema, role)) -}}
{% endmacro %}
{#- PostgreSQL: views run with their owner's rights, so SELECT on them is enough for the views; ALL
    TABLES covers views, the ledger and the storage tables. -#}
{% macro default__grant_read_sql(database, schema, role) %}
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
