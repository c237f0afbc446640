{#- Refusals, each with the command that gets the user unstuck. -#}
{% macro check_can_apply(ctx, state, migrations, head, target_v) %}
  {%- for attempt in state.unresolved -%}
    {%- do profilemesh.fail(profilemesh.unfinished_attempt_message(attempt), ctx=ctx) -%}
  {%- endfor -%}
  {%- if state.current > head -%}
    {%- do profilemesh.fail(profilemesh.version_refusal_message(state.current, head), ctx=ctx) -%}
  {%- endif -%}
  {%- if target_v < state.current -%}
    {%- do profilemesh.fail('storage is at version ' ~ state.current ~ '; downgrading to ' ~ target_v ~ ' is not supported', ctx=ctx) -%}
  {%- endif -%}
  {%- for version, attempt in state.applied.items() -%}
    {%- set code = migrations[version - 1] -%}
    {%- if attempt.checksum != code.checksum -%}
      {%- do profilemesh.fail('migration ' ~ version ~ ' was edited after it was applied (checksum ' ~ attempt.checksum
          ~ ' recorded, ' ~ code.checksum ~ ' in the code); run `profilemesh migrate validate`', ctx=ctx) -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}

{#- One migration: a 'started' row committed first (so a crash leaves a trace), then the steps and the
    'succeeded' update in one transaction where DDL is transactional. -#}
{% macro apply_migration(ctx, migration, attempt_id, operation) %}
  {%- set started = modules.datetime.datetime.now() -%}
  {%- set attempt = profilemesh.new_attempt(ctx, attempt_id, migration, operation) -%}
  {%- do profilemesh.emit('attempt', {'attempt_id': attempt_id, 'version': migration.version, 'operation': operation}) -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- do profilemesh.insert_attempt(ctx, attempt) -%}
  {%- do profilemesh.commit(ctx) -%}

  {%- set results = [] -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- for step in migration.steps -%}
    {%- do profilemesh.emit('step', {'attempt_id': attempt_id, 'version': migration.version, 'step': step.id,
        'index': loop.index, 'total': loop.length}) -%}
    {%- do profilemesh.say('version ' ~ migration.version ~ ' step ' ~ loop.index ~ '/' ~ loop.length ~ ': ' ~ step.id) -%}
    {%- do profilemesh.renew_migration_lock(ctx) -%}
    {%- if profilemesh.step_effective(step) -%}
      {%- do results.append({'step': step.id, 'action': 'skipped (already in place)'}) -%}
    {%- else -%}
      {%- for sql in profilemesh.step_statements(step) -%}{%- do profilemesh.run_sql(ctx, sql) -%}{%- endfor -%}
      {%- do results.append({'step': step.id, 'action': 'applied'}) -%}
    {%- endif -%}
    {%- if not profilemesh.transactional_ddl() -%}
      {%- do profilemesh.update_attempt(ctx, attempt_id, {'steps_completed': loop.index}) -%}
    {%- endif -%}
    {#- The step's SQL has run (and, without transactional DDL, committed with its progress). -#}
    {%- do profilemesh.emit('step_done', {'attempt_id': attempt_id, 'version': migration.version, 'step': step.id,
        'index': loop.index, 'total': loop.length}) -%}
  {%- endfor -%}
  {%- set finished = profilemesh.utc_now() -%}
  {%- do profilemesh.update_attempt(ctx, attempt_id, {
      'status': 'succeeded', 'applied_at': finished, 'finished_at': finished,
      'execution_ms': ((modules.datetime.datetime.now() - started).total_seconds() * 1000) | int,
      'steps_completed': migration.steps | length}) -%}
  {%- do profilemesh.commit(ctx) -%}
  {%- do profilemesh.say(('planned' if ctx.dry_run else 'applied') ~ ' version ' ~ migration.version ~ ' (' ~ operation ~ ')') -%}
  {%- do return({'version': migration.version, 'description': migration.description, 'operation': operation,
                 'attempt_id': attempt_id, 'steps': results}) -%}
{% endmacro %}

{#- A store written before versioning has some storage tables and no ledger rows. Its tables are
    checked against the baseline before it is adopted as version 1; a table that lacks a baseline
    column or holds it with an incompatible type stops the adoption, and nothing is changed. -#}
{% macro adoptable_tables(ctx, baseline) %}
  {%- set found = [] -%}
  {%- set problems = [] -%}
  {%- for step in baseline.steps if step.op == 'create_table' -%}
    {%- set relation = profilemesh.step_relation(step) -%}
    {%- set columns = {} -%}
    {%- for column in profilemesh.describe_columns(relation) -%}{%- do columns.update({column.name: column}) -%}{%- endfor -%}
    {%- if columns -%}
      {%- do found.append(relation.identifier) -%}
      {%- for expected in step.columns -%}
        {%- set actual = columns.get(expected.name) -%}
        {%- if actual is none -%}
          {%- do problems.append(relation.identifier ~ '.' ~ expected.name ~ ' is missing') -%}
        {%- elif not profilemesh.type_compatible(expected.type, actual) -%}
          {%- do problems.append(relation.identifier ~ '.' ~ expected.name ~ ' is ' ~ actual.data_type ~ ', expected ' ~ expected.type) -%}
        {%- endif -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if problems -%}
    {%- do profilemesh.fail('cannot adopt the existing ProfileMesh tables as version 1: ' ~ problems | join('; '), ctx=ctx) -%}
  {%- endif -%}
  {%- do return(found) -%}
{% endmacro %}

{#- A loose family check on information_schema's data_type, enough to refuse a table that only
    shares a name with ProfileMesh's. -#}
{% macro type_compatible(logical, column) %}
  {%- set t = logical | lower -%}
  {%- set dtype = column.data_type -%}
  {%- if t in ('integer', 'bigint', 'identity') -%}{%- do return(modules.re.search('int|number|numeric|decimal', dtype) is not none) -%}
  {%- elif t == 'float' -%}{%- do return(modules.re.search('double|float|real|number|numeric|decimal', dtype) is not none) -%}
  {%- elif t == 'timestamp' -%}{%- do return('timestamp' in dtype or 'datetime' in dtype) -%}
  {%- elif t == 'json' -%}{%- do return(modules.re.search('char|text|string|variant|json|object', dtype) is not none) -%}
  {%- else -%}{%- do return(modules.re.search('char|text|string', dtype) is not none) -%}
  {%- endif -%}
{% endmacro %}
