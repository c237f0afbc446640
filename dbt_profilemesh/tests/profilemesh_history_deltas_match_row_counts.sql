{#- Each history row's previous run is the table's immediately preceding run (by profiled_at, then
    run_id), and its deltas are the difference of the two runs' counts. Checked against the storage
    table with joins, independently of the view's window functions. Returns the offending rows. -#}
with history as (
    select * from {{ ref('profilemesh_table_history_v') }}
),

runs as (
    select * from {{ source('profilemesh', 'runs') }}
),

predecessor as (
    select
        history.run_id,
        history.dataset_name,
        max(case when earlier.run_id is not null then 1 else 0 end) as has_earlier
    from history
    left join runs as earlier
        on earlier.dataset_name = history.dataset_name
        and earlier.schema_name is not distinct from history.schema_name
        and (earlier.profiled_at < history.profiled_at
             or (earlier.profiled_at = history.profiled_at and earlier.run_id < history.run_id))
    group by history.run_id, history.dataset_name
)

select history.run_id, history.dataset_name, 'first run has a previous run, or a later run has none' as problem
from history
join predecessor
    on predecessor.run_id = history.run_id and predecessor.dataset_name = history.dataset_name
where (history.previous_run_id is null) != (predecessor.has_earlier = 0)

union all

select history.run_id, history.dataset_name, 'previous run is not the immediately preceding one' as problem
from history
join runs as previous
    on previous.run_id = history.previous_run_id
    and previous.dataset_name = history.dataset_name
    and previous.schema_name is not distinct from history.schema_name
join runs as between_run
    on between_run.dataset_name = history.dataset_name
    and between_run.schema_name is not distinct from history.schema_name
    and (between_run.profiled_at > previous.profiled_at
         or (between_run.profiled_at = previous.profiled_at and between_run.run_id > previous.run_id))
    and (between_run.profiled_at < history.profiled_at
         or (between_run.profiled_at = history.profiled_at and between_run.run_id < history.run_id))

union all

select history.run_id, history.dataset_name, 'deltas differ from the difference of the row counts' as problem
from history
join runs as previous
    on previous.run_id = history.previous_run_id
    and previous.dataset_name = history.dataset_name
    and previous.schema_name is not distinct from history.schema_name
join runs as current_run
    on current_run.run_id = history.run_id
    and current_run.dataset_name = history.dataset_name
where history.previous_row_count is distinct from previous.row_count
    or history.row_count_change is distinct from current_run.row_count - previous.row_count
    or history.column_count_change is distinct from current_run.column_count - previous.column_count
