{#- One row per (run_id, schema_name, dataset_name): the run, how many metrics it stored, and its drift.

    Two shapes with the same rows (the query tests compare them with the Core fallback), chosen by
    how each engine plans them (benchmarks/queries.py; docs/benchmarks.md, section 3):
    - PostgreSQL: correlated scalar subqueries. It evaluates them by index lookup only for the rows a
      query returns (after its ORDER BY and LIMIT) and drops them from a count(*) over the view, so a
      page of runs costs the same whatever the history holds. Joined to aggregates instead, every
      query aggregated the whole results table (1.1 s against 0.05 s at 2M results).
    - DuckDB and Snowflake: joins to aggregates. DuckDB pushes the outer filters into them (zone-map
      pruning) but not into decorrelated subqueries, which it computes over the whole table.
    The choice is the dispatched `runs_view_correlated` (macros/query/views.sql), not a test of
    target.type here. -#}
{%- set run_columns = ['run_id', 'dataset_name', 'schema_name', 'environment', 'status', 'profiled_at',
    'row_count', 'column_count', 'error_message', 'duration_seconds'] %}
{%- set correlated = profilemesh.runs_view_correlated() %}
{%- if not correlated %}
with runs as (
    select * from {{ source('profilemesh', 'runs') }}
),

metrics as (
    select run_id, schema_name, dataset_name, count(*) as metric_count
    from {{ source('profilemesh', 'results') }}
    group by run_id, schema_name, dataset_name
),

drift as (
    select
        run_id,
        schema_name,
        table_name,
        count(*) as drift_event_count,
        max({{ profilemesh.severity_rank('drift_severity') }}) as severity_rank
    from {{ ref('profilemesh_drift_v') }}
    where run_id is not null
    group by run_id, schema_name, table_name
)
{%- endif %}

select
{%- for column in run_columns %}
    runs.{{ column }},
{%- endfor %}
    {{ profilemesh.json_as_text('runs.scope') }} as scope,
    runs.dbt_unique_id,
{%- if correlated %}
    (
        select count(*)
        from {{ source('profilemesh', 'results') }} as results
        where results.run_id = runs.run_id
            and results.schema_name = runs.schema_name
            and results.dataset_name = runs.dataset_name
    ) as metric_count,
    (
        select count(*)
        from {{ ref('profilemesh_drift_v') }} as drift
        where drift.run_id = runs.run_id
            and drift.schema_name = runs.schema_name
            and drift.table_name = runs.dataset_name
    ) as drift_event_count,
    (
        select {{ profilemesh.severity_from_rank('max(' ~ profilemesh.severity_rank('drift.drift_severity') ~ ')') }}
        from {{ ref('profilemesh_drift_v') }} as drift
        where drift.run_id = runs.run_id
            and drift.schema_name = runs.schema_name
            and drift.table_name = runs.dataset_name
    ) as max_drift_severity
{#- No CTE in this shape: PostgreSQL does not flatten a view whose query has a WITH, and then
    computes the subqueries for every row the filter keeps, before the ORDER BY and LIMIT. #}
from {{ source('profilemesh', 'runs') }} as runs
{%- else %}
    coalesce(metrics.metric_count, 0) as metric_count,
    coalesce(drift.drift_event_count, 0) as drift_event_count,
    {{ profilemesh.severity_from_rank('drift.severity_rank') }} as max_drift_severity
from runs
left join metrics
    on metrics.run_id = runs.run_id
    and metrics.schema_name = runs.schema_name
    and metrics.dataset_name = runs.dataset_name
left join drift
    on drift.run_id = runs.run_id
    and drift.schema_name = runs.schema_name
    and drift.table_name = runs.dataset_name
{%- endif %}
