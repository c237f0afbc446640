{#- The newest value of every metric of every column, from completed runs only (for dashboards).
    Ties at the same instant go to the greater run_id, then the greater result_id. -#}
with ranked as (
    select
        metrics.*,
        row_number() over (
            partition by schema_name, dataset_name, column_name, metric_name
            order by profiled_at desc, run_id desc, result_id desc
        ) as newest
    from {{ ref('profilemesh_column_metrics_v') }} as metrics
    where run_status = 'completed'
)

select
    result_id,
    run_id,
    schema_name,
    dataset_name,
    column_name,
    column_type,
    column_native_type,
    metric_name,
    metric_value,
    metric_value_numeric,
    profiled_at,
    environment,
    run_status
from ranked
where newest = 1
