{#- Execution context shared by the engine's operations: in a dry run every statement is collected
    and none is executed, so the plan shown is exactly the SQL an apply would run. -#}

{% macro engine_context(dry_run, applied_by, profilemesh_version) %}
  {%- do return({
    'dry_run': dry_run,
    'statements': [],
    'applied_by': applied_by or (target.user ~ '@dbt' if target.user is defined and target.user else 'dbt'),
    'profilemesh_version': profilemesh_version or ('dbt-package ' ~ profilemesh.package_version()),
  }) -%}
{% endmacro %}

{% macro run_sql(ctx, sql) %}
  {%- do ctx.statements.append(sql) -%}
  {%- if not ctx.dry_run -%}{%- do return(run_query(sql)) -%}{%- endif -%}
{% endmacro %}

{#- PostgreSQL and DuckDB run DDL inside transactions: a migration commits or rolls back whole.
    Snowflake commits every DDL statement on its own, so there each step is probed and idempotent. -#}
{% macro transactional_ddl() %}{{ return(adapter.dispatch('transactional_ddl', 'profilemesh')()) }}{% endmacro %}
{% macro default__transactional_ddl() %}{%- do profilemesh.require_supported_adapter('transactional_ddl') -%}{{ return(true) }}{% endmacro %}
{% macro snowflake__transactional_ddl() %}{{ return(false) }}{% endmacro %}

{% macro begin(ctx) %}
  {%- if not profilemesh.transactional_ddl() -%}{{ return(none) }}{%- endif -%}
  {%- do ctx.statements.append('BEGIN') -%}
  {%- if not ctx.dry_run -%}{%- do adapter.dispatch('begin_transaction', 'profilemesh')() -%}{%- endif -%}
{% endmacro %}

{% macro commit(ctx) %}
  {%- if not profilemesh.transactional_ddl() -%}{{ return(none) }}{%- endif -%}
  {%- do ctx.statements.append('COMMIT') -%}
  {%- if not ctx.dry_run -%}{%- do adapter.dispatch('commit_transaction', 'profilemesh')() -%}{%- endif -%}
{% endmacro %}

{#- PostgreSQL: dbt-postgres leaves transactions to psycopg2, whose implicit BEGIN is not re-issued
    after a COMMIT sent as SQL; so the engine brackets every unit with its own BEGIN and COMMIT. -#}
{% macro default__begin_transaction() %}{%- do profilemesh.require_supported_adapter('begin_transaction') -%}{%- do run_query('BEGIN') -%}{% endmacro %}
{% macro default__commit_transaction() %}{%- do profilemesh.require_supported_adapter('commit_transaction') -%}{%- do run_query('COMMIT') -%}{% endmacro %}

{#- DuckDB: dbt-duckdb sends its own BEGIN when it thinks none is open, so the engine goes through
    dbt's transaction tracking instead of sending a second BEGIN. -#}
{% macro duckdb__begin_transaction() %}{%- do adapter.execute('SELECT 1', auto_begin=true) -%}{% endmacro %}
{% macro duckdb__commit_transaction() %}{%- do adapter.commit() -%}{% endmacro %}


{% macro ensure_schema(ctx) %}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- if not adapter.check_schema_exists(relation.database, relation.schema) -%}
    {%- do profilemesh.run_sql(ctx, 'CREATE SCHEMA IF NOT EXISTS ' ~ profilemesh.schema_reference(relation)) -%}
  {%- endif -%}
{% endmacro %}

{#- PostgreSQL cannot name another database in CREATE SCHEMA; DuckDB and Snowflake can, and should. -#}
{% macro schema_reference(relation) %}{{ return(adapter.dispatch('schema_reference', 'profilemesh')(relation)) }}{% endmacro %}
{% macro default__schema_reference(relation) %}{%- do profilemesh.require_supported_adapter('schema_reference') -%}{{ return(relation.without_identifier().include(database=false)) }}{% endmacro %}
{% macro duckdb__schema_reference(relation) %}{{ return(relation.without_identifier()) }}{% endmacro %}
{% macro snowflake__schema_reference(relation) %}{{ return(relation.without_identifier()) }}{% endmacro %}
