{#- Internal run-operations: the profilemesh CLI runs these to finish its own commands (record a
    failed migration attempt, hand back a Snowflake lease). They are not part of the package's public
    interface (macros/commands/_macros.yml lists what is) and may change in any release. -#}

{#- Called by the CLI after an apply failed: the attempt's 'started' row becomes 'failed' with the
    step and the error. (dbt macros cannot catch errors, so this is a second operation.) -#}
{#- takeover_token: the failed invocation's lease (Snowflake), which it could not release itself. -#}
{% macro profilemesh_migrate_record_failure(attempt_id, failed_step=none, error_message=none, lock_timeout=30,
                                           takeover_token=none) %}
  {%- set ctx = profilemesh.engine_context(false, none, none) -%}
  {%- do ctx.update({'takeover_token': takeover_token}) -%}
  {%- do profilemesh.acquire_migration_lock(ctx, lock_timeout) -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- do profilemesh.run_sql(ctx, 'UPDATE ' ~ profilemesh.storage_relation('schema_version') ~ ' SET '
      ~ profilemesh.quote_column('status') ~ " = 'failed', "
      ~ profilemesh.quote_column('finished_at') ~ ' = ' ~ profilemesh.utc_timestamp_literal(profilemesh.utc_now()) ~ ', '
      ~ profilemesh.quote_column('failed_step') ~ ' = ' ~ profilemesh.sql_literal(failed_step[:255] if failed_step else none) ~ ', '
      ~ profilemesh.quote_column('error_message') ~ ' = ' ~ profilemesh.sql_literal(error_message[:4000] if error_message else none)
      ~ ' WHERE ' ~ profilemesh.quote_column('attempt_id') ~ ' = ' ~ attempt_id | int
      ~ ' AND ' ~ profilemesh.quote_column('status') ~ " = 'started'") -%}
  {%- do profilemesh.commit(ctx) -%}
  {%- do profilemesh.release_migration_lock(ctx) -%}
  {%- do profilemesh.emit('result', {'operation': 'record_failure', 'attempt_id': attempt_id | int}) -%}
{% endmacro %}

{#- Hands back a lease left by an operation that died on a SQL error (Snowflake; a no-op elsewhere). -#}
{% macro profilemesh_migrate_release_lease(token) %}
  {%- set ctx = profilemesh.engine_context(false, none, none) -%}
  {%- do ctx.update({'lease_token': token}) -%}
  {%- do profilemesh.release_migration_lock(ctx) -%}
  {%- do profilemesh.emit('result', {'operation': 'release_lease'}) -%}
{% endmacro %}
