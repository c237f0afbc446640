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
{% macro duckdb__acquire_migration_lock(ctx, lock_timeout) %}{{ return(none) }}{% endmacro %}
{% macro duckdb__release_migration_lock(ctx) %}{{ return(none) }}{% endmacro %}

{#- Any other adapter: no lock this package knows to be safe there, so no migration. -#}
{% macro default__acquire_migration_lock(ctx, lock_timeout) %}
  {%- do profilemesh.require_supported_adapter('acquire_migration_lock', supported=[]) -%}
{% endmacro %}
{% macro default__release_migration_lock(ctx) %}
  {%- do profilemesh.require_supported_adapter('release_migration_lock', supported=[]) -%}
{% endmacro %}

{#- PostgreSQL: a session advisory lock keyed on the ledger's location, so two stores in one database
    do not block each other. It is released with the session, so a killed holder never leaves it stuck.
    Polled with pg_try_advisory_lock for a bounded wait that ends in a clear "store busy".
    ctx.lock_shared takes the key shared instead (retention: a writer that must not overlap a
    migration, while producers, which take it shared too, go on); then only an exclusive holder blocks. -#}
{% macro advisory_lock_name() %}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- do return('hashtext(' ~ profilemesh.sql_literal(relation.schema ~ '.' ~ relation.identifier) ~ ')') -%}
{% endmacro %}

{#- The key's first part, 'PM': the Python side reads it from the contract (profilemesh/contract.py). -#}
{% macro advisory_lock_class() %}{{ return(20557) }}{% endmacro %}

{% macro advisory_lock_key() %}{{ return(profilemesh.advisory_lock_class() ~ ', ' ~ profilemesh.advisory_lock_name()) }}{% endmacro %}

{% macro postgres__acquire_migration_lock(ctx, lock_timeout) %}
  {%- do run_query("SELECT set_config('application_name', " ~ profilemesh.sql_literal((ctx.get('operation_name', 'profilemesh migrate') ~ ' ' ~ ctx.applied_by)[:63]) ~ ", false)") -%}
  {%- set state = {'acquired': false} -%}
  {%- set interval = 0.25 -%}
  {%- set tries = ((lock_timeout | float) / interval) | round(0, 'ceil') | int + 1 -%}
  {%- for attempt in range(tries) if not state.acquired -%}
    {%- if attempt > 0 -%}{%- do run_query('SELECT pg_sleep(' ~ interval ~ ')') -%}{%- endif -%}
    {%- set result = run_query('SELECT pg_try_advisory_lock' ~ profilemesh.advisory_lock_suffix(ctx) ~ '(' ~ profilemesh.advisory_lock_key() ~ ')') -%}
    {%- if result.rows[0][0] -%}{%- do state.update({'acquired': true}) -%}{%- endif -%}
  {%- endfor -%}
  {%- if not state.acquired -%}
    {%- set holder = run_query("SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        ~ " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = " ~ profilemesh.advisory_lock_class() ~ " AND l.objsubid = 2"
        ~ " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ~ (" AND l.mode = 'ExclusiveLock'" if ctx.get('lock_shared') else '')
        ~ " AND l.objid = " ~ profilemesh.advisory_lock_name() ~ "::oid") -%}
    {%- set who = 'another session' -%}
    {%- if holder.rows -%}{%- set who = 'pid ' ~ holder.rows[0][0] ~ ' (' ~ holder.rows[0][1] ~ ', since ' ~ holder.rows[0][2] ~ ')' -%}{%- endif -%}
    {%- do profilemesh.fail('store busy: the migration lock is held by ' ~ who ~ '; waited ' ~ lock_timeout ~ ' s', 'busy') -%}
  {%- endif -%}
{% endmacro %}

{% macro postgres__release_migration_lock(ctx) %}
  {%- do run_query('SELECT pg_advisory_unlock' ~ profilemesh.advisory_lock_suffix(ctx) ~ '(' ~ profilemesh.advisory_lock_key() ~ ')') -%}
{% endmacro %}

{% macro advisory_lock_suffix(ctx) %}{{ return('_shared' if ctx.get('lock_shared') else '') }}{% endmacro %}

{#- Snowflake has no advisory locks and does not enforce primary keys: the lock is a lease row,
    taken by compare-and-set (an UPDATE that only matches a free or expired lease; DML on one table
    is serialised), renewed before every step (heartbeat), and checked before every step (fencing:
    a holder whose lease was taken over stops). Waiting is done by the CLI, which retries a 'lease_held'. -#}
{% macro lock_ttl_seconds() %}{{ return(var('profilemesh_lock_ttl_seconds', 300) | int) }}{% endmacro %}

{% macro snowflake__acquire_migration_lock(ctx, lock_timeout) %}
  {%- if ctx.dry_run -%}{%- do return(none) -%}{%- endif -%}
  {%- set lock = profilemesh.storage_relation('migration_lock') -%}
  {%- set token = invocation_id -%}
  {%- do ctx.update({'lease_token': token}) -%}
  {%- do run_query('CREATE SCHEMA IF NOT EXISTS ' ~ profilemesh.schema_reference(lock)) -%}
  {%- do run_query('CREATE TABLE IF NOT EXISTS ' ~ lock ~ ' (lock_name VARCHAR(100), holder VARCHAR(255), '
      ~ 'token VARCHAR(64), acquired_at TIMESTAMP_NTZ, expires_at TIMESTAMP_NTZ, heartbeat_at TIMESTAMP_NTZ)') -%}
  {%- do run_query('INSERT INTO ' ~ lock ~ " (lock_name) SELECT 'migrate' WHERE NOT EXISTS (SELECT 1 FROM "
      ~ lock ~ " WHERE lock_name = 'migrate')") -%}
  {%- do run_query('UPDATE ' ~ lock ~ ' SET holder = ' ~ profilemesh.sql_literal(ctx.applied_by[:255])
      ~ ', token = ' ~ profilemesh.sql_literal(token) ~ ', acquired_at = sysdate(), heartbeat_at = sysdate()'
      ~ ', expires_at = dateadd(second, ' ~ profilemesh.lock_ttl_seconds() ~ ', sysdate())'
      ~ " WHERE lock_name = 'migrate' AND (token IS NULL OR expires_at < sysdate()"
      ~ (' OR token = ' ~ profilemesh.sql_literal(ctx.takeover_token) if ctx.get('takeover_token') else '') ~ ')') -%}
  {#- Ours only if every lease row (a lost race can seed two) carries our token. -#}
  {%- set others = run_query('SELECT holder, expires_at FROM ' ~ lock ~ " WHERE lock_name = 'migrate' AND "
      ~ '(token IS NULL OR token <> ' ~ profilemesh.sql_literal(token) ~ ')') -%}
  {%- if others.rows -%}
    {%- do run_query('UPDATE ' ~ lock ~ ' SET holder = NULL, token = NULL, expires_at = NULL WHERE token = '
        ~ profilemesh.sql_literal(token)) -%}
    {%- do profilemesh.fail('store busy: the migration lease is held by ' ~ others.rows[0][0] ~ ' until '
        ~ others.rows[0][1] ~ ' UTC', 'lease_held') -%}
  {%- endif -%}
{% endmacro %}

{% macro snowflake__release_migration_lock(ctx) %}
  {%- if ctx.dry_run -%}{%- do return(none) -%}{%- endif -%}
  {%- do run_query('UPDATE ' ~ profilemesh.storage_relation('migration_lock') ~ ' SET holder = NULL, token = NULL, '
      ~ 'expires_at = NULL WHERE token = ' ~ profilemesh.sql_literal(ctx.lease_token)) -%}
{% endmacro %}

{#- Before every step: extend our lease, and stop if it is no longer ours. -#}
{% macro renew_migration_lock(ctx) %}
  {{- return(adapter.dispatch('renew_migration_lock', 'profilemesh')(ctx)) -}}
{% endmacro %}
{#- PostgreSQL and DuckDB: their locks last as long as the session or the process. -#}
{% macro default__renew_migration_lock(ctx) %}
  {%- do profilemesh.require_supported_adapter('renew_migration_lock') -%}
{% endmacro %}
{% macro snowflake__renew_migration_lock(ctx) %}
  {%- if ctx.dry_run -%}{%- do return(none) -%}{%- endif -%}
  {%- set lock = profilemesh.storage_relation('migration_lock') -%}
  {%- set mine = profilemesh.sql_literal(ctx.lease_token) -%}
  {%- do run_query('UPDATE ' ~ lock ~ ' SET heartbeat_at = sysdate(), expires_at = dateadd(second, '
      ~ profilemesh.lock_ttl_seconds() ~ ', sysdate()) WHERE token = ' ~ mine ~ ' AND expires_at >= sysdate()') -%}
  {%- set held = run_query('SELECT count(*) FROM ' ~ lock ~ ' WHERE token = ' ~ mine ~ ' AND expires_at >= sysdate()') -%}
  {%- if held.rows[0][0] | int == 0 -%}
    {%- do profilemesh.fail('lost the migration lease (it expired and may have been taken over); stopping before the next step', 'busy') -%}
  {%- endif -%}
{% endmacro %}
