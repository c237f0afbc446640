{#- Version 4: column types as the warehouse names them (results.column_native_type: an enum's own
    name, timestamptz, numeric(12,2)), beside the portable name column_type keeps; result ids past 2^31
    (results.id BIGINT; the identity's sequence follows on PostgreSQL, DuckDB rebuilds the keyed
    table); what a run read of its table when not every row and column (runs.scope: the row filter,
    the columns, the sample). And a run is keyed by (run_id, schema_name, dataset_name), so one run can profile two tables
    that share a name in two schemas. schema_name becomes part of the key, so it cannot be NULL. Results
    and events written without a schema take their run's; what is left (the table was named without a
    schema and the source connection had none configured) gets '', the value ProfileMesh writes in that
    case from this version on, as it already did in table_state. See docs/schemas/SCHEMA_REFERENCE.md. -#}
{% macro profilemesh_migration_0004() %}
  {%- do return({
    'version': 4,
    'description': 'Native column types; 64-bit result ids; what a run read; runs keyed by schema and table',
    'steps': [
      {'id': 'results_add_column_native_type', 'op': 'add_column', 'table': 'results',
       'column': {'name': 'column_native_type', 'type': 'varchar(255)'}},
      {'id': 'runs_add_scope', 'op': 'add_column', 'table': 'runs', 'column': {'name': 'scope', 'type': 'json'}},
      {'id': 'results_id_bigint', 'op': 'widen_column', 'table': 'results', 'column': 'id', 'type': 'bigint'},
      {'id': 'runs_fill_schema_name', 'op': 'fill_nulls', 'table': 'runs', 'column': 'schema_name', 'value': ''},
      {'id': 'results_schema_name_from_runs', 'op': 'fill_nulls', 'table': 'results', 'column': 'schema_name',
       'lookup': {'table': 'runs', 'column': 'schema_name', 'on': {'run_id': 'run_id', 'dataset_name': 'dataset_name'}}},
      {'id': 'results_fill_schema_name', 'op': 'fill_nulls', 'table': 'results', 'column': 'schema_name', 'value': ''},
      {'id': 'events_schema_name_from_runs', 'op': 'fill_nulls', 'table': 'events', 'column': 'schema_name',
       'lookup': {'table': 'runs', 'column': 'schema_name', 'on': {'run_id': 'run_id', 'table_name': 'dataset_name'}}},
      {'id': 'events_fill_schema_name', 'op': 'fill_nulls', 'table': 'events', 'column': 'schema_name', 'value': ''},
      {'id': 'runs_key_schema_table', 'op': 'rekey_table', 'table': 'runs',
       'primary_key': ['run_id', 'schema_name', 'dataset_name'],
       'previous_primary_key': ['run_id', 'dataset_name'], 'not_null': ['schema_name']},
    ]
  }) -%}
{% endmacro %}
