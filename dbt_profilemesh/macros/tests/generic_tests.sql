{#- Generic dbt tests over what ProfileMesh stored about a model (docs: _tests.yml, docs/guides/DBT.md).
    Each returns one row per failure (columns: failure_columns in history.sql) and follows dbt's
    severity / warn_if / error_if / store_failures configs; `where` filters those failure rows. A model
    with no stored history passes with a warning. -#}

{#- Drift events of the model at or above `min_severity`: of its latest completed run, or of every
    run in the last `within_hours` hours. Accepted drift (`profilemesh drift accept`) does not count
    unless include_accepted. `column_name` (set by dbt when the test sits under a column) narrows to
    one column. -#}
{% test no_drift(model, column_name=none, min_severity='medium', within_hours=none, include_accepted=false,
                 schema_name=none, table_name=none) %}
  {%- set severities = profilemesh.severities() -%}
  {%- if min_severity not in severities -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh no_drift: min_severity must be one of '
        ~ severities | join(', ') ~ ', got ' ~ min_severity) -%}
  {%- endif -%}
  {%- set cutoff = profilemesh.hours_ago_literal(within_hours, 'within_hours') if within_hours is not none else none -%}
  {%- set target = profilemesh.test_target(model, schema_name, table_name) -%}
  {%- if not profilemesh.has_history('no_drift', target) -%}
    {{ return(profilemesh.no_failures_sql()) }}
  {%- endif -%}
  {%- set events = profilemesh.storage_relation('events') -%}
  {%- set failures -%}
    {%- if within_hours is none %}
    with latest_run as (
      {{ profilemesh.latest_completed_run_sql(target) }}
    )
    {% endif %}
    {{ profilemesh.failure_select({
        'schema_name': 'events.schema_name',
        'table_name': 'events.table_name',
        'column_name': 'events.column_name',
        'metric_name': 'events.metric_name',
        'event_type': 'events.event_type',
        'severity': 'events.drift_severity',
        'run_id': 'events.run_id',
        'recorded_at': 'events.' ~ profilemesh.quote_column('timestamp'),
        'observed_value': 'events.current_value',
        'baseline_value': 'events.baseline_value',
        'change_percent': 'events.change_percent',
    }) }}
    from {{ events }} as events
    {%- if within_hours is none %}
    inner join latest_run on latest_run.run_id = events.run_id
    {%- endif %}
    where events.event_type in ({% for t in profilemesh.drift_event_types() %}{{ profilemesh.sql_literal(t) }}{{ ', ' if not loop.last }}{% endfor %})
      and {{ profilemesh.matches_target('events.schema_name', 'events.table_name', target) }}
      and {{ profilemesh.severity_rank('events.drift_severity') }} >= {{ severities.index(min_severity) }}
    {%- if within_hours is not none %}
      and events.{{ profilemesh.quote_column('timestamp') }} >= {{ cutoff }}
    {%- endif %}
    {%- if column_name is not none %}
      and lower(events.column_name) = {{ profilemesh.sql_literal(column_name | lower) }}
    {%- endif %}
    {%- if not include_accepted %}
      and events.accepted_at is null
    {%- endif %}
  {%- endset -%}
  {{ profilemesh.test_failures('no_drift', failures) }}
{% endtest %}

{#- The model's latest completed run is at most `max_age_hours` old (a model whose runs all failed is
    not fresh either). -#}
{% test fresh(model, max_age_hours=24, schema_name=none, table_name=none) %}
  {%- set cutoff = profilemesh.hours_ago_literal(max_age_hours, 'max_age_hours') -%}
  {%- set target = profilemesh.test_target(model, schema_name, table_name) -%}
  {%- if not profilemesh.has_history('fresh', target) -%}
    {{ return(profilemesh.no_failures_sql()) }}
  {%- endif -%}
  {%- set failures -%}
    with latest as (
      select max(profiled_at) as profiled_at
      from {{ profilemesh.storage_relation('runs') }}
      where {{ profilemesh.matches_target('schema_name', 'dataset_name', target) }}
        and status = 'completed'
    )
    {{ profilemesh.failure_select({
        'schema_name': profilemesh.sql_literal(target.schema),
        'table_name': profilemesh.sql_literal(target.table),
        'metric_name': "'profiled_at'",
        'event_type': "'StaleProfile'",
        'recorded_at': 'latest.profiled_at',
        'max_value': profilemesh.bound_literal(max_age_hours, 'max_age_hours'),
    }) }}
    from latest
    where latest.profiled_at is null
       or latest.profiled_at < {{ cutoff }}
  {%- endset -%}
  {{ profilemesh.test_failures('fresh', failures) }}
{% endtest %}

{#- The row count ProfileMesh stored for the model's latest completed run is within [min_value,
    max_value] (either bound may be left out). -#}
{% test row_count_between(model, min_value=none, max_value=none, schema_name=none, table_name=none) %}
  {%- if min_value is none and max_value is none -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh row_count_between: set min_value, max_value or both') -%}
  {%- endif -%}
  {%- set low = profilemesh.bound_literal(min_value, 'min_value') if min_value is not none else 'null' -%}
  {%- set high = profilemesh.bound_literal(max_value, 'max_value') if max_value is not none else 'null' -%}
  {%- set target = profilemesh.test_target(model, schema_name, table_name) -%}
  {%- if not profilemesh.has_history('row_count_between', target) -%}
    {{ return(profilemesh.no_failures_sql()) }}
  {%- endif -%}
  {%- set failures -%}
    with latest_run as (
      {{ profilemesh.latest_completed_run_sql(target) }}
    )
    {{ profilemesh.failure_select({
        'schema_name': 'latest_run.schema_name',
        'table_name': 'latest_run.dataset_name',
        'metric_name': "'row_count'",
        'event_type': "'RowCountOutOfBounds'",
        'run_id': 'latest_run.run_id',
        'recorded_at': 'latest_run.profiled_at',
        'observed_value': 'latest_run.row_count',
        'min_value': low,
        'max_value': high,
    }) }}
    from latest_run
    where latest_run.row_count is null
    {%- if min_value is not none %}
       or latest_run.row_count < {{ low }}
    {%- endif %}
    {%- if max_value is not none %}
       or latest_run.row_count > {{ high }}
    {%- endif %}
  {%- endset -%}
  {{ profilemesh.test_failures('row_count_between', failures) }}
{% endtest %}

{#- A metric ProfileMesh stored for a column in the model's latest completed run is within
    [min_value, max_value]. Declared under a column (dbt passes column_name) or with column_name.
    A metric the latest run did not store, or that is not a number, fails: a misspelt metric name
    never passes silently. -#}
{% test metric_between(model, column_name, metric, min_value=none, max_value=none, schema_name=none, table_name=none) %}
  {%- if min_value is none and max_value is none -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh metric_between: set min_value, max_value or both') -%}
  {%- endif -%}
  {%- set low = profilemesh.bound_literal(min_value, 'min_value') if min_value is not none else 'null' -%}
  {%- set high = profilemesh.bound_literal(max_value, 'max_value') if max_value is not none else 'null' -%}
  {%- set target = profilemesh.test_target(model, schema_name, table_name) -%}
  {%- if not profilemesh.has_history('metric_between', target) -%}
    {{ return(profilemesh.no_failures_sql()) }}
  {%- endif -%}
  {%- set failures -%}
    with latest_run as (
      {{ profilemesh.latest_completed_run_sql(target) }}
    ),

    stored as (
      select results.run_id, results.metric_value_numeric
      from {{ profilemesh.storage_relation('results') }} as results
      inner join latest_run
        on latest_run.run_id = results.run_id
        and latest_run.dataset_name = results.dataset_name
        and coalesce(latest_run.schema_name, '') = coalesce(results.schema_name, '')
      where lower(results.column_name) = {{ profilemesh.sql_literal(column_name | lower) }}
        and results.metric_name = {{ profilemesh.sql_literal(metric) }}
    )

    {{ profilemesh.failure_select({
        'schema_name': 'latest_run.schema_name',
        'table_name': 'latest_run.dataset_name',
        'column_name': profilemesh.sql_literal(column_name),
        'metric_name': profilemesh.sql_literal(metric),
        'event_type': "case when stored.run_id is null then 'MetricNotStored' else 'MetricOutOfBounds' end",
        'run_id': 'latest_run.run_id',
        'recorded_at': 'latest_run.profiled_at',
        'observed_value': 'stored.metric_value_numeric',
        'min_value': low,
        'max_value': high,
    }) }}
    from latest_run
    left join stored on stored.run_id = latest_run.run_id
    where stored.metric_value_numeric is null
    {%- if min_value is not none %}
       or stored.metric_value_numeric < {{ low }}
    {%- endif %}
    {%- if max_value is not none %}
       or stored.metric_value_numeric > {{ high }}
    {%- endif %}
  {%- endset -%}
  {{ profilemesh.test_failures('metric_between', failures) }}
{% endtest %}
