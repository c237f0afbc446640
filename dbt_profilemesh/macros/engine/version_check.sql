{#- Is the store at a version this package can use? The refusals, worded once for the package (the
    version gate, retention, the migration engine) and worded the same as the CLI's
    (profilemesh/store/state.py; tests/test_store_state.py runs both). -#}

{% macro unfinished_attempt_message(attempt) %}
  {%- do return('attempt ' ~ attempt.attempt_id ~ ' (' ~ attempt.operation ~ ' of version ' ~ attempt.version ~ ') '
      ~ ('failed at step ' ~ attempt.failed_step if attempt.status == 'failed' else 'did not finish')
      ~ ': run `profilemesh migrate repair`') -%}
{% endmacro %}

{% macro version_refusal_message(current, head) %}
  {%- if current == 0 -%}
    {#- The catalog hides what the role may not use: a store it cannot read looks like no store. -#}
    {%- set denied = profilemesh.storage_access_problem() -%}
    {%- if denied -%}{%- do return(denied) -%}{%- endif -%}
    {%- do return('no ProfileMesh storage in schema ' ~ profilemesh.storage_schema() ~ ': run `profilemesh migrate apply`') -%}
  {%- elif current < head -%}
    {%- do return('storage is at version ' ~ current ~ ', ProfileMesh needs ' ~ head ~ ': run `profilemesh migrate apply`') -%}
  {%- elif current > head -%}
    {%- do return('storage is at version ' ~ current ~ ', newer than this ProfileMesh (' ~ head ~ '): upgrade profilemesh') -%}
  {%- endif -%}
  {%- do return(none) -%}
{% endmacro %}

{#- The store's ledger state, read now (an absent ledger reads as version 0). -#}
{% macro read_store_state() %}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- do return(profilemesh.ledger_state(profilemesh.read_attempts(profilemesh.existing_columns(relation) | length > 0))) -%}
{% endmacro %}

{#- A writer (retention) writes only a store exactly at this package's version, with nothing to repair. -#}
{% macro require_writable(ctx) %}
  {%- set state = profilemesh.read_store_state() -%}
  {%- if state.unresolved -%}
    {%- do profilemesh.fail(profilemesh.unfinished_attempt_message(state.unresolved[-1]), ctx=ctx) -%}
  {%- endif -%}
  {%- set refusal = profilemesh.version_refusal_message(state.current, profilemesh.load_migrations() | length) -%}
  {%- if refusal -%}
    {%- do profilemesh.fail(refusal, 'missing' if state.current == 0 else 'refused', ctx=ctx) -%}
  {%- endif -%}
{% endmacro %}

{#- Why the running role cannot read the store, when the store is there but hidden from it; none
    otherwise. Worded as the CLI words it (PostgreSQL.access_problem in profilemesh/warehouses). -#}
{% macro storage_access_problem() %}{{ return(adapter.dispatch('storage_access_problem', 'profilemesh')()) }}{% endmacro %}
{% macro default__storage_access_problem() %}{%- do profilemesh.require_supported_adapter('storage_access_problem') -%}{{ return(none) }}{% endmacro %}
{% macro postgres__storage_access_problem() %}
  {%- set schema = profilemesh.storage_schema() -%}
  {%- set result = run_query(
      "select current_user, has_schema_privilege(n.oid, 'USAGE'), "
      ~ "(select has_table_privilege(c.oid, 'SELECT') from pg_catalog.pg_class c "
      ~ "where c.relnamespace = n.oid and c.relname = 'profilemesh_schema_version') "
      ~ "from pg_catalog.pg_namespace n where n.nspname = " ~ profilemesh.sql_literal(schema)) -%}
  {%- if result.rows | length == 0 -%}{{ return(none) }}{%- endif -%}
  {%- set row = result.rows[0] -%}
  {%- if not row[1] or row[2] == false -%}
    {{ return(profilemesh.access_denied_message(row[0], schema)) }}
  {%- endif -%}
  {{ return(none) }}
{% endmacro %}

{% macro access_denied_message(role, schema) %}
  {{- return('role ' ~ role ~ ' cannot read schema ' ~ schema ~ ' (permission denied): grant it USAGE on the '
      ~ 'schema and SELECT on its tables (docs/configuration.md, Permissions)') -}}
{% endmacro %}
