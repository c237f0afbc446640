{#- Version 1: the ProfileMesh-era baseline, exactly the shapes existing stores hold (NOTES.md).
    A store written before versioning is adopted as this version; an empty one is created by it.
    Immutable once released: its checksum is recorded in every store it was applied to. -#}
{% macro profilemesh_migration_0001() %}
  {%- do return({
    'version': 1,
    'description': 'ProfileMesh-era baseline: runs, results, events, table_state',
    'steps': [
      {'id': 'create_runs', 'op': 'create_table', 'table': 'runs',
       'primary_key': ['run_id', 'dataset_name'],
       'columns': [
         {'name': 'run_id', 'type': 'varchar(36)', 'nullable': false},
         {'name': 'dataset_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'schema_name', 'type': 'varchar(255)'},
         {'name': 'profiled_at', 'type': 'timestamp', 'nullable': false},
         {'name': 'environment', 'type': 'varchar(50)'},
         {'name': 'status', 'type': 'varchar(20)'},
         {'name': 'row_count', 'type': 'integer'},
         {'name': 'column_count', 'type': 'integer'},
       ]},
      {'id': 'create_results', 'op': 'create_table', 'table': 'results',
       'primary_key': ['id'],
       'columns': [
         {'name': 'id', 'type': 'identity', 'nullable': false},
         {'name': 'run_id', 'type': 'varchar(36)', 'nullable': false},
         {'name': 'dataset_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'schema_name', 'type': 'varchar(255)'},
         {'name': 'column_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'column_type', 'type': 'varchar(100)'},
         {'name': 'metric_name', 'type': 'varchar(100)', 'nullable': false},
         {'name': 'metric_value', 'type': 'text'},
         {'name': 'profiled_at', 'type': 'timestamp', 'nullable': false},
       ]},
      {'id': 'create_events', 'op': 'create_table', 'table': 'events',
       'primary_key': ['event_id'],
       'columns': [
         {'name': 'event_id', 'type': 'varchar(36)', 'nullable': false},
         {'name': 'event_type', 'type': 'varchar(100)', 'nullable': false},
         {'name': 'table_name', 'type': 'varchar(255)'},
         {'name': 'column_name', 'type': 'varchar(255)'},
         {'name': 'metric_name', 'type': 'varchar(100)'},
         {'name': 'baseline_value', 'type': 'float'},
         {'name': 'current_value', 'type': 'float'},
         {'name': 'change_percent', 'type': 'float'},
         {'name': 'drift_severity', 'type': 'varchar(20)'},
         {'name': 'timestamp', 'type': 'timestamp', 'nullable': false},
         {'name': 'metadata', 'type': 'json'},
         {'name': 'created_at', 'type': 'timestamp', 'default': 'utc_now'},
       ]},
      {'id': 'create_table_state', 'op': 'create_table', 'table': 'table_state',
       'primary_key': ['schema_name', 'table_name'],
       'columns': [
         {'name': 'schema_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'table_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'last_run_id', 'type': 'varchar(36)'},
         {'name': 'snapshot_id', 'type': 'varchar(255)'},
         {'name': 'change_token', 'type': 'varchar(255)'},
         {'name': 'decision', 'type': 'varchar(50)'},
         {'name': 'decision_reason', 'type': 'varchar(255)'},
         {'name': 'last_profiled_at', 'type': 'timestamp'},
         {'name': 'staleness_score', 'type': 'integer'},
         {'name': 'row_count', 'type': 'bigint'},
         {'name': 'bytes_scanned', 'type': 'bigint'},
         {'name': 'metadata', 'type': 'text'},
       ]},
    ]
  }) -%}
{% endmacro %}
