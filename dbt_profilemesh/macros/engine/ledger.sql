{#- The schema-version ledger: one row per attempt (apply, adopt, repair), never deleted.
    The engine creates it before anything else, so an empty database goes to head in one command.
    Columns added here later are added to existing ledgers by ensure_ledger (guarded). -#}

{% macro ledger_columns() %}
  {%- do return([
    {'name': 'attempt_id', 'type': 'integer', 'nullable': false},
    {'name': 'version', 'type': 'integer', 'nullable': false},
    {'name': 'description', 'type': 'varchar(500)'},
    {'name': 'migration_script', 'type': 'varchar(255)'},
    {'name': 'checksum', 'type': 'varchar(64)', 'nullable': false},
    {'name': 'operation', 'type': 'varchar(20)', 'nullable': false},
    {'name': 'status', 'type': 'varchar(20)', 'nullable': false},
    {'name': 'started_at', 'type': 'timestamp', 'nullable': false},
    {'name': 'applied_at', 'type': 'timestamp'},
    {'name': 'finished_at', 'type': 'timestamp'},
    {'name': 'execution_ms', 'type': 'bigint'},
    {'name': 'steps_total', 'type': 'integer'},
    {'name': 'steps_completed', 'type': 'integer'},
    {'name': 'failed_step', 'type': 'varchar(255)'},
    {'name': 'error_message', 'type': 'text'},
    {'name': 'resolved_by', 'type': 'integer'},
    {'name': 'applied_by', 'type': 'varchar(255)'},
    {'name': 'profilemesh_version', 'type': 'varchar(50)'},
    {'name': 'dialect', 'type': 'varchar(50)'},
  ]) -%}
{% endmacro %}

{% macro ledger_primary_key() %}{{ return(['attempt_id']) }}{% endmacro %}

{#- Creates the ledger, or adds columns a newer engine expects. Returns whether it existed. -#}
{% macro ensure_ledger(ctx) %}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- set existing = profilemesh.existing_columns(relation) -%}
  {%- if not existing -%}
    {%- for sql in profilemesh.create_table_sql(relation, profilemesh.ledger_columns(), profilemesh.ledger_primary_key()) -%}
      {%- do profilemesh.run_sql(ctx, sql) -%}
    {%- endfor -%}
    {%- do return(false) -%}
  {%- endif -%}
  {#- Ledger columns added after the first release must be nullable. -#}
  {%- for column in profilemesh.ledger_columns() if column.name not in existing -%}
    {%- do profilemesh.run_sql(ctx, profilemesh.add_column_sql(relation, column)[0]) -%}
  {%- endfor -%}
  {%- do return(true) -%}
{% endmacro %}

{% macro ledger_select_columns() %}
  {{- return(['attempt_id', 'version', 'status', 'operation', 'checksum', 'failed_step', 'error_message',
              'resolved_by', 'migration_script', 'steps_completed', 'steps_total']) -}}
{% endmacro %}

{#- Every attempt, oldest first, as dicts. Columns are read by position: Snowflake upper-cases names. -#}
{% macro read_attempts(exists) %}
  {%- if not exists -%}{%- do return([]) -%}{%- endif -%}
  {%- set names = profilemesh.ledger_select_columns() -%}
  {%- set quoted = [] -%}
  {%- for name in names -%}{%- do quoted.append(profilemesh.quote_column(name)) -%}{%- endfor -%}
  {%- set result = run_query('SELECT ' ~ quoted | join(', ') ~ ' FROM ' ~ profilemesh.storage_relation('schema_version')
      ~ ' ORDER BY ' ~ profilemesh.quote_column('attempt_id')) -%}
  {%- set attempts = [] -%}
  {%- for row in result.rows -%}
    {%- set attempt = {} -%}
    {%- for name in names -%}{%- do attempt.update({name: row[loop.index0]}) -%}{%- endfor -%}
    {%- do attempt.update({'attempt_id': attempt.attempt_id | int, 'version': attempt.version | int}) -%}
    {%- do attempts.append(attempt) -%}
  {%- endfor -%}
  {%- do return(attempts) -%}
{% endmacro %}

{#- What the ledger says: the applied version, unresolved attempts, the next attempt id. -#}
{% macro ledger_state(attempts) %}
  {%- set state = {'current': 0, 'unresolved': [], 'applied': {}, 'next_attempt_id': 1} -%}
  {%- for attempt in attempts -%}
    {%- if attempt.status == 'succeeded' -%}
      {%- do state.applied.update({attempt.version: attempt}) -%}
      {%- if attempt.version > state.current -%}{%- do state.update({'current': attempt.version}) -%}{%- endif -%}
    {%- elif attempt.status in ('started', 'failed') and attempt.resolved_by is none -%}
      {%- do state.unresolved.append(attempt) -%}
    {%- endif -%}
    {%- do state.update({'next_attempt_id': attempt.attempt_id + 1}) -%}
  {%- endfor -%}
  {%- do return(state) -%}
{% endmacro %}

{% macro insert_attempt(ctx, values) %}
  {%- set columns = [] -%}
  {%- set literals = [] -%}
  {%- for name, value in values.items() -%}
    {%- do columns.append(profilemesh.quote_column(name)) -%}
    {%- do literals.append(profilemesh.ledger_value(value)) -%}
  {%- endfor -%}
  {%- do profilemesh.run_sql(ctx, 'INSERT INTO ' ~ profilemesh.storage_relation('schema_version')
      ~ ' (' ~ columns | join(', ') ~ ') VALUES (' ~ literals | join(', ') ~ ')') -%}
{% endmacro %}

{% macro update_attempt(ctx, attempt_id, values) %}
  {%- set assignments = [] -%}
  {%- for name, value in values.items() -%}
    {%- do assignments.append(profilemesh.quote_column(name) ~ ' = ' ~ profilemesh.ledger_value(value)) -%}
  {%- endfor -%}
  {%- do profilemesh.run_sql(ctx, 'UPDATE ' ~ profilemesh.storage_relation('schema_version') ~ ' SET '
      ~ assignments | join(', ') ~ ' WHERE ' ~ profilemesh.quote_column('attempt_id') ~ ' = ' ~ attempt_id | int) -%}
{% endmacro %}

{#- Datetimes become typed timestamp literals; everything else a plain literal. -#}
{% macro ledger_value(value) %}
  {%- if value is not none and value.strftime is defined -%}
    {%- do return(profilemesh.utc_timestamp_literal(value)) -%}
  {%- endif -%}
  {%- do return(profilemesh.sql_literal(value)) -%}
{% endmacro %}

{% macro new_attempt(ctx, attempt_id, migration, operation) %}
  {%- do return({
    'attempt_id': attempt_id,
    'version': migration.version,
    'description': migration.description[:500],
    'migration_script': migration.script[:255],
    'checksum': migration.checksum,
    'operation': operation,
    'status': 'started',
    'started_at': profilemesh.utc_now(),
    'steps_total': migration.steps | length,
    'steps_completed': 0,
    'applied_by': ctx.applied_by[:255],
    'profilemesh_version': ctx.profilemesh_version[:50],
    'dialect': target.type,
  }) -%}
{% endmacro %}
