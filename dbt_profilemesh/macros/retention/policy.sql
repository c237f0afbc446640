{#- The retention policy: which rows go. This file is the only definition; `profilemesh retention`
    runs the profilemesh_retention operation (retention.sql), which builds every query from here.
    See docs/guides/DATA_RETENTION.md.

    A run is one row of the runs table, (run_id, schema_name, dataset_name). It goes when ALL of these hold:
      - profiled_at is before the cutoff (now - keep_days, UTC);
      - it is not among its table's newest keep_runs_per_table runs (any status);
      - it is not its table's newest completed run;
      - its status is not 'running';
      - profilemesh_table_state does not name it (last_run_id, schema_name, table_name).
    Results and events that belong to a run go with it: results by (run_id, schema_name, dataset_name),
    events by (run_id, schema_name, table_name). Rows that belong to no run that stays (events written before version 2
    without a run_id, run-level events without a table, rows whose run was removed outside
    ProfileMesh) are aged by their own timestamp (events.timestamp, results.profiled_at). -#}

{% macro retention_policy(keep_days, keep_runs_per_table, table, batch_size) %}
  {%- set keep_days = profilemesh.retention_count('keep_days', keep_days, 0) -%}
  {%- set keep_runs = profilemesh.retention_count('keep_runs_per_table', keep_runs_per_table, 0) -%}
  {%- set batch = profilemesh.retention_count('batch_size', batch_size, 1) -%}
  {%- set schema_name, table_name = none, none -%}
  {%- if table is not none and (table | string | trim) -%}
    {%- set parts = (table | string | trim).rsplit('.', 1) -%}
    {%- if parts | length == 2 -%}{%- set schema_name, table_name = parts[0], parts[1] -%}
    {%- else -%}{%- set table_name = parts[0] -%}{%- endif -%}
  {%- endif -%}
  {%- set cutoff = profilemesh.utc_now() - modules.datetime.timedelta(days=keep_days) -%}
  {%- do return({'keep_days': keep_days, 'keep_runs_per_table': keep_runs, 'batch_size': batch,
                 'schema_name': schema_name, 'table_name': table_name, 'cutoff': cutoff}) -%}
{% endmacro %}

{#- A whole number >= minimum, from --args (YAML or JSON: an int, or a string of digits). -#}
{% macro retention_count(name, value, minimum) %}
  {%- if value is none -%}
    {%- do profilemesh.fail('retention needs ' ~ name ~ ' (a whole number of ' ~ ('days' if name == 'keep_days' else 'runs') ~ ')', 'usage') -%}
  {%- endif -%}
  {%- set text = value | string | trim -%}
  {%- if value is sameas true or value is sameas false or not modules.re.fullmatch('-?[0-9]+', text) -%}
    {%- do profilemesh.fail(name ~ ' must be a whole number, not ' ~ text, 'usage') -%}
  {%- endif -%}
  {%- if text | int < minimum -%}
    {%- do profilemesh.fail(name ~ ' must be ' ~ minimum ~ ' or more, not ' ~ text, 'usage') -%}
  {%- endif -%}
  {%- do return(text | int) -%}
{% endmacro %}

{#- Quoted column names (Snowflake folds to upper case; quote_column handles it). -#}
{% macro retention_columns() %}
  {%- set names = ['run_id', 'dataset_name', 'schema_name', 'profiled_at', 'status', 'table_name', 'last_run_id',
                   'event_id', 'timestamp', 'id'] -%}
  {%- set c = {} -%}
  {%- for name in names -%}{%- do c.update({name: profilemesh.quote_column(name)}) -%}{%- endfor -%}
  {%- do return(c) -%}
{% endmacro %}

{#- `alias.<table column> = T [and alias.schema_name = S]` for --table, or `1 = 1`. -#}
{% macro retention_table_filter(policy, alias, table_column) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- if policy.table_name is none -%}{%- do return('1 = 1') -%}{%- endif -%}
  {%- set sql = alias ~ '.' ~ c[table_column] ~ ' = ' ~ profilemesh.sql_literal(policy.table_name) -%}
  {%- if policy.schema_name is not none -%}
    {%- set sql = sql ~ ' and ' ~ alias ~ '.' ~ c.schema_name ~ ' = ' ~ profilemesh.sql_literal(policy.schema_name) -%}
  {%- endif -%}
  {%- do return(sql) -%}
{% endmacro %}

{% macro retention_cutoff_sql(policy) %}
  {{- return(profilemesh.utc_timestamp_literal(policy.cutoff)) -}}
{% endmacro %}

{#- `with doomed as (...)`: the runs that go, as (run_id, dataset_name, schema_name, profiled_at).
    Ranks are per table, (schema_name, dataset_name), newest first; ties broken by run_id. -#}
{% macro retention_doomed_cte(policy) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set runs = profilemesh.storage_relation('runs') -%}
  {%- set state = profilemesh.storage_relation('table_state') -%}
  {%- set per_table = 'partition by coalesce(r.' ~ c.schema_name ~ ", ''), r." ~ c.dataset_name -%}
  {%- set sql -%}
with doomed as (
  select ranked.{{ c.run_id }}, ranked.{{ c.dataset_name }}, ranked.{{ c.schema_name }}, ranked.{{ c.profiled_at }}
  from (
    select r.{{ c.run_id }}, r.{{ c.dataset_name }}, r.{{ c.schema_name }}, r.{{ c.profiled_at }}, r.{{ c.status }},
      row_number() over ({{ per_table }} order by r.{{ c.profiled_at }} desc, r.{{ c.run_id }} desc) as pm_recency,
      row_number() over ({{ per_table }} order by case when r.{{ c.status }} = 'completed' then 0 else 1 end,
        r.{{ c.profiled_at }} desc, r.{{ c.run_id }} desc) as pm_completed_rank
    from {{ runs }} r
    where {{ profilemesh.retention_table_filter(policy, 'r', 'dataset_name') }}
  ) ranked
  where ranked.{{ c.profiled_at }} < {{ profilemesh.retention_cutoff_sql(policy) }}
    and ranked.pm_recency > {{ policy.keep_runs_per_table }}
    and not (coalesce(ranked.{{ c.status }}, '') = 'completed' and ranked.pm_completed_rank = 1)
    and coalesce(ranked.{{ c.status }}, '') <> 'running'
    and not exists (
      select 1 from {{ state }} s
      where s.{{ c.last_run_id }} = ranked.{{ c.run_id }} and s.{{ c.schema_name }} = ranked.{{ c.schema_name }}
        and s.{{ c.table_name }} = ranked.{{ c.dataset_name }}
    )
)
  {%- endset -%}
  {%- do return(sql) -%}
{% endmacro %}

{#- Events that belong to no run that stays, and are older than the cutoff (alias e; needs doomed).
    An event belongs to a run when run_id matches and, if the event names a table, the schema and table do.
    Written as anti-joins so every warehouse can hash them. -#}
{% macro retention_unattached_events_from(policy) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set runs = profilemesh.storage_relation('runs') -%}
  {%- set events = profilemesh.storage_relation('events') -%}
  {%- set survivors -%}
(select r.{{ c.run_id }}, r.{{ c.schema_name }}, r.{{ c.dataset_name }} from {{ runs }} r
 left join doomed d on d.{{ c.run_id }} = r.{{ c.run_id }} and d.{{ c.schema_name }} = r.{{ c.schema_name }}
   and d.{{ c.dataset_name }} = r.{{ c.dataset_name }}
 where d.{{ c.run_id }} is null)
  {%- endset -%}
  {%- set sql -%}
{{ events }} e
  left join doomed dd on dd.{{ c.run_id }} = e.{{ c.run_id }} and dd.{{ c.schema_name }} = e.{{ c.schema_name }}
    and dd.{{ c.dataset_name }} = e.{{ c.table_name }}
  left join {{ survivors }} s on s.{{ c.run_id }} = e.{{ c.run_id }} and s.{{ c.schema_name }} = e.{{ c.schema_name }}
    and s.{{ c.dataset_name }} = e.{{ c.table_name }}
  left join (select distinct sr.{{ c.run_id }} from {{ survivors }} sr) si on si.{{ c.run_id }} = e.{{ c.run_id }}
where e.{{ c.timestamp }} < {{ profilemesh.retention_cutoff_sql(policy) }}
  and {{ profilemesh.retention_table_filter(policy, 'e', 'table_name') }}
  and dd.{{ c.run_id }} is null
  and s.{{ c.run_id }} is null
  and (e.{{ c.table_name }} is not null or si.{{ c.run_id }} is null)
  {%- endset -%}
  {%- do return(sql) -%}
{% endmacro %}

{#- Results whose run is not in the runs table at all, older than the cutoff (alias x). -#}
{% macro retention_unattached_results_where(policy) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set runs = profilemesh.storage_relation('runs') -%}
  {%- set sql -%}
x.{{ c.profiled_at }} < {{ profilemesh.retention_cutoff_sql(policy) }}
  and {{ profilemesh.retention_table_filter(policy, 'x', 'dataset_name') }}
  and not exists (
    select 1 from {{ runs }} r where r.{{ c.run_id }} = x.{{ c.run_id }} and r.{{ c.schema_name }} = x.{{ c.schema_name }}
      and r.{{ c.dataset_name }} = x.{{ c.dataset_name }}
  )
  {%- endset -%}
  {%- do return(sql) -%}
{% endmacro %}

{#- The rows of a batch of runs (run_id, schema_name, table): `run_id in (...) and exists (select 1 from (values ...) ...)`.
    A VALUES list joins as a hash semi-join everywhere; an OR of 500 pairs costs DuckDB's optimizer
    about 0.7 s per statement (measured), the VALUES form 0.09 s. Unqualified run_id and the table
    column resolve to the outer table (the VALUES columns are named pm_*). -#}
{% macro retention_pairs_condition(pairs, table_column) %}
  {{- return(adapter.dispatch('retention_pairs_condition', 'profilemesh')(pairs, table_column)) -}}
{% endmacro %}
{% macro default__retention_pairs_condition(pairs, table_column) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set values, run_ids = [], [] -%}
  {%- for pair in pairs -%}
    {%- set run_id = profilemesh.sql_literal(pair.run_id) -%}
    {%- do values.append('(' ~ run_id ~ ', ' ~ profilemesh.sql_literal(pair.schema_name) ~ ', '
        ~ profilemesh.sql_literal(pair.dataset_name) ~ ')') -%}
    {%- if run_id not in run_ids -%}{%- do run_ids.append(run_id) -%}{%- endif -%}
  {%- endfor -%}
  {%- do return('(' ~ c.run_id ~ ' in (' ~ run_ids | join(', ') ~ ') and exists (select 1 from (values '
      ~ values | join(', ') ~ ') as pm_batch (pm_run_id, pm_schema, pm_table) where pm_batch.pm_run_id = ' ~ c.run_id
      ~ ' and pm_batch.pm_schema = ' ~ c.schema_name ~ ' and pm_batch.pm_table = ' ~ c[table_column] ~ '))') -%}
{% endmacro %}
