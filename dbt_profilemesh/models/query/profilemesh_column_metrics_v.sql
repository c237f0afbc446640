{#- Every stored metric, one row per metric of a profiled column, with its run's context. -#}
with results as (
    select * from {{ source('profilemesh', 'results') }}
),

runs as (
    select * from {{ source('profilemesh', 'runs') }}
)

select
    results.id as result_id,
    results.run_id,
    coalesce(results.schema_name, runs.schema_name) as schema_name,
    results.dataset_name,
    results.column_name,
    results.column_type,
    results.column_native_type,
    results.metric_name,
    results.metric_value,
    results.metric_value_numeric,
    results.profiled_at,
    runs.environment,
    runs.status as run_status
from results
left join runs
    on runs.run_id = results.run_id
    and runs.schema_name = results.schema_name
    and runs.dataset_name = results.dataset_name
