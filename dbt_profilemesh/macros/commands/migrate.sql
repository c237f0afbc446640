{#- dbt run-operation profilemesh_migrate --args '{target_version: 2, dry_run: true}'
    Takes the store from whatever version it is at (0 = empty, or an unversioned ProfileMesh-era store)
    to target_version (default: head), under the migration lock, recording every attempt. -#}
{% macro profilemesh_migrate(target_version=none, dry_run=false, lock_timeout=60, applied_by=none, profilemesh_version=none) %}
  {%- set ctx = profilemesh.engine_context(dry_run, applied_by, profilemesh_version) -%}
  {%- set migrations = profilemesh.load_migrations() -%}
  {%- set head = migrations | length -%}
  {%- set target_v = head if target_version is none else target_version | int -%}
  {%- if target_v < 0 or target_v > head -%}
    {%- do profilemesh.fail('target version ' ~ target_v ~ ' does not exist: this package knows versions 1 to ' ~ head, 'usage') -%}
  {%- endif -%}

  {#- The lock first: even CREATE SCHEMA IF NOT EXISTS races between concurrent sessions on PostgreSQL. -#}
  {%- do profilemesh.acquire_migration_lock(ctx, lock_timeout) -%}
  {%- do profilemesh.ensure_schema(ctx) -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- set ledger_existed = profilemesh.ensure_ledger(ctx) -%}
  {%- do profilemesh.commit(ctx) -%}
  {%- set state = profilemesh.ledger_state(profilemesh.read_attempts(ledger_existed)) -%}
  {%- do profilemesh.check_can_apply(ctx, state, migrations, head, target_v) -%}

  {%- set applied = [] -%}
  {%- set ns = {'next_id': state.next_attempt_id, 'adopted': []} -%}
  {%- if state.current == 0 and target_v >= 1 -%}
    {%- do ns.update({'adopted': profilemesh.adoptable_tables(ctx, migrations[0])}) -%}
  {%- endif -%}
  {%- for migration in migrations[state.current:target_v] -%}
    {%- set operation = 'adopt' if (migration.version == 1 and ns.adopted) else 'apply' -%}
    {%- do applied.append(profilemesh.apply_migration(ctx, migration, ns.next_id, operation)) -%}
    {%- do ns.update({'next_id': ns.next_id + 1}) -%}
  {%- endfor -%}
  {%- do profilemesh.release_migration_lock(ctx) -%}

  {%- if not applied -%}{%- do profilemesh.say('storage is at version ' ~ state.current ~ '; nothing to apply') -%}{%- endif -%}
  {%- do profilemesh.emit('result', {
      'operation': 'apply', 'dry_run': dry_run, 'from_version': state.current,
      'to_version': target_v if applied else state.current, 'head': head,
      'adopted_tables': ns.adopted, 'applied': applied, 'statements': ctx.statements}) -%}
{% endmacro %}

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
