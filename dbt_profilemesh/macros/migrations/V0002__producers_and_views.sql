{#- Version 2: what the producers (profile, drift) and the query views need that v1 lacks.
    Every step is guarded, so a store that already has a column (some ProfileMesh-era events tables
    have run_id) is left as it is. See docs/schemas/SCHEMA_REFERENCE.md for the reasons. -#}
{% macro profilemesh_migration_0002() %}
  {%- do return({
    'version': 2,
    'description': 'Typed metric values, run ids and schemas on events, run errors, lookup indexes',
    'steps': [
      {'id': 'events_add_run_id', 'op': 'add_column', 'table': 'events',
       'column': {'name': 'run_id', 'type': 'varchar(36)'}},
      {'id': 'events_add_schema_name', 'op': 'add_column', 'table': 'events',
       'column': {'name': 'schema_name', 'type': 'varchar(255)'}},
      {'id': 'results_add_metric_value_numeric', 'op': 'add_column', 'table': 'results',
       'column': {'name': 'metric_value_numeric', 'type': 'float'}},
      {'id': 'results_backfill_metric_value_numeric', 'op': 'backfill_float', 'table': 'results',
       'source': 'metric_value', 'target': 'metric_value_numeric'},
      {'id': 'runs_add_error_message', 'op': 'add_column', 'table': 'runs',
       'column': {'name': 'error_message', 'type': 'text'}},
      {'id': 'runs_add_duration_seconds', 'op': 'add_column', 'table': 'runs',
       'column': {'name': 'duration_seconds', 'type': 'float'}},
      {'id': 'index_runs_dataset_profiled', 'op': 'create_index', 'table': 'runs',
       'suffix': 'dataset_profiled', 'columns': ['dataset_name', 'profiled_at']},
      {'id': 'index_results_run_dataset', 'op': 'create_index', 'table': 'results',
       'suffix': 'run_dataset', 'columns': ['run_id', 'dataset_name']},
      {'id': 'index_events_run', 'op': 'create_index', 'table': 'events',
       'suffix': 'run_table', 'columns': ['run_id', 'table_name']},
      {'id': 'index_events_timestamp', 'op': 'create_index', 'table': 'events',
       'suffix': 'timestamp', 'columns': ['timestamp']},
    ]
  }) -%}
{% endmacro %}
