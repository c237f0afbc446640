{#- One row per (run_id, dataset_name): the run, how many metrics it stored, and its drift. -#}
with runs as (
    select * from {{ source('profilemesh', 'runs') }}
),

metrics as (
    select run_id, dataset_name, count(*) as metric_count
    from {{ source('profilemesh', 'results') }}
    group by run_id, dataset_name
),

drift as (
    select
        run_id,
        table_name,
        count(*) as drift_event_count,
        max({{ profilemesh.severity_rank('drift_severity') }}) as severity_rank
    from {{ ref('profilemesh_drift_v') }}
    where run_id is not null
    group by run_id, table_name
)

select
    runs.run_id,
    runs.dataset_name,
    runs.schema_name,
    runs.environment,
    runs.status,
    runs.profiled_at,
    runs.row_count,
    runs.column_count,
    runs.error_message,
    runs.duration_seconds,
    coalesce(metrics.metric_count, 0) as metric_count,
    coalesce(drift.drift_event_count, 0) as drift_event_count,
    {{ profilemesh.severity_from_rank('drift.severity_rank') }} as max_drift_severity
from runs
left join metrics
    on metrics.run_id = runs.run_id
    and metrics.dataset_name = runs.dataset_name
left join drift
    on drift.run_id = runs.run_id
    and drift.table_name = runs.dataset_name
