{#- One row per table per run, with the change against the table's previous run (any status),
    ordered by profiled_at and then run_id so that ties have a defined predecessor. (No WINDOW
    clause: Snowflake has none.) A superseded run (a bucket profiled again) is no point of the
    history: the run that replaced it is. -#}
with runs as (
    select * from {{ ref('profilemesh_runs_v') }}
    where status <> 'superseded'
),

ordered as (
    select
        run_id,
        schema_name,
        dataset_name,
        environment,
        status,
        profiled_at,
        row_count,
        column_count,
        drift_event_count,
        max_drift_severity,
        lag(run_id) over (partition by schema_name, dataset_name order by profiled_at, run_id) as previous_run_id,
        lag(profiled_at) over (partition by schema_name, dataset_name order by profiled_at, run_id) as previous_profiled_at,
        lag(row_count) over (partition by schema_name, dataset_name order by profiled_at, run_id) as previous_row_count,
        lag(column_count) over (partition by schema_name, dataset_name order by profiled_at, run_id) as previous_column_count
    from runs
)

select
    run_id,
    schema_name,
    dataset_name,
    environment,
    status,
    profiled_at,
    row_count,
    column_count,
    previous_run_id,
    previous_profiled_at,
    previous_row_count,
    row_count - previous_row_count as row_count_change,
    cast(100.0 * (row_count - previous_row_count) / nullif(previous_row_count, 0) as {{ profilemesh.type_float() }})
        as row_count_change_percent,
    column_count - previous_column_count as column_count_change,
    drift_event_count,
    max_drift_severity
from ordered
