{#- dbt run-operation profilemesh_migrate_repair [--args '{rollback: true}']
    After a failed or interrupted attempt: probes which steps of that migration took effect, then
    converges. Nothing took effect -> the attempt is marked resolved (rolled back). Some steps took
    effect -> the remaining ones are finished, or with rollback: true the effective ones are undone.
    The repair is itself an attempt in the ledger, and the attempts it resolves point to it. -#}
{% macro profilemesh_migrate_repair(rollback=false, dry_run=false, lock_timeout=60, applied_by=none, profilemesh_version=none) %}
  {%- set ctx = profilemesh.engine_context(dry_run, applied_by, profilemesh_version) -%}
  {%- set migrations = profilemesh.load_migrations() -%}
  {%- do profilemesh.acquire_migration_lock(ctx, lock_timeout) -%}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- set state = profilemesh.ledger_state(profilemesh.read_attempts(profilemesh.existing_columns(relation) | length > 0)) -%}
  {%- if not state.unresolved -%}
    {%- do profilemesh.release_migration_lock(ctx) -%}
    {%- do profilemesh.say('nothing to repair: no failed or interrupted attempt') -%}
    {%- do profilemesh.emit('result', {'operation': 'repair', 'dry_run': dry_run, 'repaired': [], 'statements': []}) -%}
    {%- do return(none) -%}
  {%- endif -%}

  {%- set failed = state.unresolved[-1] -%}
  {%- if failed.version > migrations | length -%}
    {%- do profilemesh.fail('attempt ' ~ failed.attempt_id ~ ' was for version ' ~ failed.version
        ~ ', which this ProfileMesh does not know: repair it with the version that ran it', ctx=ctx) -%}
  {%- endif -%}
  {%- set migration = migrations[failed.version - 1] -%}
  {%- do profilemesh.finish_interrupted_rebuilds(ctx) -%}
  {%- set effective = [] -%}
  {%- for step in migration.steps -%}
    {%- if profilemesh.step_effective(step) -%}{%- do effective.append(step.id) -%}{%- endif -%}
  {%- endfor -%}

  {%- set started = modules.datetime.datetime.now() -%}
  {%- set attempt = profilemesh.new_attempt(ctx, state.next_attempt_id, migration, 'repair') -%}
  {%- do profilemesh.emit('attempt', {'attempt_id': attempt.attempt_id, 'version': migration.version, 'operation': 'repair'}) -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- do profilemesh.insert_attempt(ctx, attempt) -%}
  {%- do profilemesh.commit(ctx) -%}

  {%- set actions = [] -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- if not effective or rollback -%}
    {%- set outcome = 'rolled_back' -%}
    {%- for step in migration.steps | reverse if step.id in effective -%}
      {%- do profilemesh.emit('step', {'attempt_id': attempt.attempt_id, 'version': migration.version, 'step': step.id}) -%}
      {%- do profilemesh.renew_migration_lock(ctx) -%}
      {%- for sql in profilemesh.step_undo_statements(step) -%}{%- do profilemesh.run_sql(ctx, sql) -%}{%- endfor -%}
      {%- do actions.append({'step': step.id, 'action': 'undone'}) -%}
    {%- endfor -%}
    {%- set note = 'rolled back version ' ~ migration.version ~ ' (' ~ (effective | length) ~ ' of ' ~ (migration.steps | length) ~ ' steps had taken effect)' -%}
  {%- else -%}
    {%- set outcome = 'succeeded' -%}
    {%- for step in migration.steps -%}
      {%- if step.id in effective -%}
        {%- do actions.append({'step': step.id, 'action': 'already in place'}) -%}
      {%- else -%}
        {%- do profilemesh.emit('step', {'attempt_id': attempt.attempt_id, 'version': migration.version, 'step': step.id}) -%}
        {%- do profilemesh.renew_migration_lock(ctx) -%}
        {%- for sql in profilemesh.step_statements(step) -%}{%- do profilemesh.run_sql(ctx, sql) -%}{%- endfor -%}
        {%- do actions.append({'step': step.id, 'action': 'applied'}) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- set note = 'finished version ' ~ migration.version ~ ' (' ~ (effective | length) ~ ' of ' ~ (migration.steps | length) ~ ' steps had taken effect)' -%}
  {%- endif -%}
  {%- set finished = profilemesh.utc_now() -%}
  {%- do profilemesh.update_attempt(ctx, attempt.attempt_id, {
      'status': outcome, 'applied_at': finished if outcome == 'succeeded' else none, 'finished_at': finished,
      'execution_ms': ((modules.datetime.datetime.now() - started).total_seconds() * 1000) | int,
      'steps_completed': actions | length, 'description': ('repair: ' ~ note)[:500]}) -%}
  {%- for resolved in state.unresolved -%}
    {%- do profilemesh.update_attempt(ctx, resolved.attempt_id, {'resolved_by': attempt.attempt_id}) -%}
  {%- endfor -%}
  {%- do profilemesh.commit(ctx) -%}
  {%- do profilemesh.release_migration_lock(ctx) -%}
  {%- do profilemesh.say('repair: ' ~ note) -%}
  {%- do profilemesh.emit('result', {'operation': 'repair', 'dry_run': dry_run, 'attempt_id': attempt.attempt_id,
      'version': migration.version, 'outcome': outcome, 'note': note, 'effective_steps': effective,
      'resolved_attempts': state.unresolved | map(attribute='attempt_id') | list,
      'actions': actions, 'statements': ctx.statements}) -%}
{% endmacro %}

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
