{#- Version 7: the shape of each profiled column's values, one row per item (profilemesh profile,
    profiling.distributions): a numeric or temporal column's quantiles (kind `quantile`, label p1..p99,
    temporal values as epoch seconds in value_numeric and ISO text in value_text) and its histogram
    (kind `histogram`: equal-width bins over the run's own min..max, value_numeric and value_upper the
    bin's edges); a low-cardinality column's most common values (kind `top_value`, the value as text in
    label) and the share of the rest (kind `other`); the row count per value of a table's segment_by
    column (kind `segment`, the rest as `segment_other`). share_percent: of the column's non-null values
    (of the table's rows for segments). Keyed like results, by run, schema and table; retention deletes
    them with their run. See docs/schemas/SCHEMA_REFERENCE.md and docs/guides/PROFILING.md. -#}
{% macro profilemesh_migration_0007() %}
  {%- do return({
    'version': 7,
    'description': 'Distributions: quantiles, histograms, top values and segment counts per run',
    'steps': [
      {'id': 'create_distributions', 'op': 'create_table', 'table': 'distributions',
       'primary_key': ['run_id', 'schema_name', 'dataset_name', 'column_name', 'kind', 'position'],
       'columns': [
         {'name': 'run_id', 'type': 'varchar(36)', 'nullable': false},
         {'name': 'schema_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'dataset_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'column_name', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'kind', 'type': 'varchar(20)', 'nullable': false},
         {'name': 'position', 'type': 'integer', 'nullable': false},
         {'name': 'label', 'type': 'text'},
         {'name': 'value_numeric', 'type': 'float'},
         {'name': 'value_upper', 'type': 'float'},
         {'name': 'value_text', 'type': 'text'},
         {'name': 'share_percent', 'type': 'float'},
         {'name': 'row_count', 'type': 'bigint'},
         {'name': 'mode', 'type': 'varchar(20)'},
         {'name': 'profiled_at', 'type': 'timestamp', 'nullable': false},
       ]},
    ]
  }) -%}
{% endmacro %}
