{#- Drift events only (not lifecycle events), each with its run's context. -#}
with events as (
    select * from {{ source('profilemesh', 'events') }}
    where event_type in ('{{ profilemesh.drift_event_types() | join("', '") }}')
),

runs as (
    select * from {{ source('profilemesh', 'runs') }}
)

select
    events.event_id,
    events.event_type,
    events.run_id,
    coalesce(events.schema_name, runs.schema_name) as schema_name,
    events.table_name,
    events.column_name,
    events.metric_name,
    events.baseline_value,
    events.current_value,
    events.change_percent,
    events.drift_severity,
    events.{{ profilemesh.quote_column('timestamp') }} as detected_at,
    runs.environment,
    runs.profiled_at,
    {{ profilemesh.json_as_text('events.metadata') }} as metadata,
    events.accepted_at,
    events.accepted_by,
    events.accepted_reason
from events
left join runs
    on runs.run_id = events.run_id
    and runs.schema_name = events.schema_name
    and runs.dataset_name = events.table_name
