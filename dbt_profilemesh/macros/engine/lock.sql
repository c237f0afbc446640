{#- The migration lock, taken before any state is read and held until the operation ends.
    Every warehouse has its own mechanism; see docs/schemas/MIGRATION_GUIDE.md ("Locks"). -#}

{% macro acquire_migration_lock(ctx, lock_timeout) %}
  {{- return(adapter.dispatch('acquire_migration_lock', 'profilemesh')(ctx, lock_timeout)) -}}
{% endmacro %}

{% macro release_migration_lock(ctx) %}
  {{- return(adapter.dispatch('release_migration_lock', 'profilemesh')(ctx)) -}}
{% endmacro %}

{#- DuckDB: the file itself is the lock. dbt-duckdb opens the file read-write, which DuckDB grants
    to one process at a time; the CLI retries that open until --lock-timeout ("store busy"). -#}
{% macro default__acquire_migration_lock(ctx, lock_timeout) %}{{ return(none) }}{% endmacro %}
{% macro default__release_migration_lock(ctx) %}{{ return(none) }}{% endmacro %}

{#- PostgreSQL: a session advisory lock keyed on the ledger's location, so two stores in one database
    do not block each other. It is released with the session, so a killed holder never leaves it stuck.
    Polled with pg_try_advisory_lock for a bounded wait that ends in a clear "store busy". -#}
{% macro advisory_lock_name() %}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- do return('hashtext(' ~ profilemesh.sql_literal(relation.schema ~ '.' ~ relation.identifier) ~ ')') -%}
{% endmacro %}

{% macro advisory_lock_key() %}{{ return('20557, ' ~ profilemesh.advisory_lock_name()) }}{% endmacro %}

{% macro postgres__acquire_migration_lock(ctx, lock_timeout) %}
  {%- do run_query("SELECT set_config('application_name', " ~ profilemesh.sql_literal(('profilemesh migrate ' ~ ctx.applied_by)[:63]) ~ ", false)") -%}
  {%- set state = {'acquired': false} -%}
  {%- set interval = 0.25 -%}
  {%- set tries = ((lock_timeout | float) / interval) | round(0, 'ceil') | int + 1 -%}
  {%- for attempt in range(tries) if not state.acquired -%}
    {%- if attempt > 0 -%}{%- do run_query('SELECT pg_sleep(' ~ interval ~ ')') -%}{%- endif -%}
    {%- set result = run_query('SELECT pg_try_advisory_lock(' ~ profilemesh.advisory_lock_key() ~ ')') -%}
    {%- if result.rows[0][0] -%}{%- do state.update({'acquired': true}) -%}{%- endif -%}
  {%- endfor -%}
  {%- if not state.acquired -%}
    {%- set holder = run_query("SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        ~ " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 20557 AND l.objsubid = 2"
        ~ " AND l.objid = " ~ profilemesh.advisory_lock_name() ~ "::oid") -%}
    {%- set who = 'another session' -%}
    {%- if holder.rows -%}{%- set who = 'pid ' ~ holder.rows[0][0] ~ ' (' ~ holder.rows[0][1] ~ ', since ' ~ holder.rows[0][2] ~ ')' -%}{%- endif -%}
    {%- do profilemesh.fail('store busy: the migration lock is held by ' ~ who ~ '; waited ' ~ lock_timeout ~ ' s', 'busy') -%}
  {%- endif -%}
{% endmacro %}

{% macro postgres__release_migration_lock(ctx) %}
  {%- do run_query('SELECT pg_advisory_unlock(' ~ profilemesh.advisory_lock_key() ~ ')') -%}
{% endmacro %}
