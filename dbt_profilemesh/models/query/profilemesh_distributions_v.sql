{#- Every stored distribution item (schema version 7): quantiles, histogram bins, top values and
    segment counts, one row per item of a profiled column, with its run's context. -#}
with distributions as (
    select * from {{ source('profilemesh', 'distributions') }}
),

runs as (
    select * from {{ source('profilemesh', 'runs') }}
)

select
    distributions.run_id,
    distributions.schema_name,
    distributions.dataset_name,
    distributions.column_name,
    distributions.kind,
    distributions.position,
    distributions.label,
    distributions.value_numeric,
    distributions.value_upper,
    distributions.value_text,
    distributions.share_percent,
    distributions.row_count,
    distributions.mode,
    distributions.profiled_at,
    runs.environment,
    runs.status as run_status
from distributions
left join runs
    on runs.run_id = distributions.run_id
    and runs.schema_name = distributions.schema_name
    and runs.dataset_name = distributions.dataset_name
