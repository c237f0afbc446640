{#- Version 3: drift incidents a user accepted (`profilemesh drift accept`), the index that serves
    the newest runs of every table (`query runs` and `query drift` without --table), and row counts
    past 2^31. An acceptance is stored on the incident's own event: when, by whom and why; the event
    itself is never rewritten. See docs/schemas/SCHEMA_REFERENCE.md. -#}
{% macro profilemesh_migration_0003() %}
  {%- do return({
    'version': 3,
    'description': 'Accepted drift incidents; an index on the runs by time; 64-bit row counts',
    'steps': [
      {'id': 'events_add_accepted_at', 'op': 'add_column', 'table': 'events',
       'column': {'name': 'accepted_at', 'type': 'timestamp'}},
      {'id': 'events_add_accepted_by', 'op': 'add_column', 'table': 'events',
       'column': {'name': 'accepted_by', 'type': 'varchar(255)'}},
      {'id': 'events_add_accepted_reason', 'op': 'add_column', 'table': 'events',
       'column': {'name': 'accepted_reason', 'type': 'text'}},
      {'id': 'index_runs_profiled', 'op': 'create_index', 'table': 'runs',
       'suffix': 'profiled', 'columns': ['profiled_at']},
      {'id': 'runs_row_count_bigint', 'op': 'widen_column', 'table': 'runs', 'column': 'row_count',
       'type': 'bigint'},
    ]
  }) -%}
{% endmacro %}
