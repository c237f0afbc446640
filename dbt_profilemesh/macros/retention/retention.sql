{#- A table that has no run (and no event or result) is a typo, not an empty plan. -#}
{% macro retention_check_table(ctx, policy) %}
  {%- if policy.table_name is none -%}{%- do return(none) -%}{%- endif -%}
  {%- set found = run_query('select count(*) from ' ~ profilemesh.storage_relation('runs') ~ ' r where '
      ~ profilemesh.retention_table_filter(policy, 'r', 'dataset_name')) -%}
  {%- if found.rows[0][0] | int == 0 -%}
    {%- set name = ((policy.schema_name ~ '.') if policy.schema_name else '') ~ policy.table_name -%}
    {%- do profilemesh.fail('unknown table ' ~ name ~ ': no runs of it are stored', 'usage', ctx=ctx) -%}
  {%- endif -%}
{% endmacro %}

{#- counts[(schema, table)] = {runs, results, events}, accumulated from `select schema, table, n` rows. -#}
{% macro retention_add_counts(counts, kind, rows) %}
  {%- for row in rows -%}
    {%- set key = tojson([row[0] or '', row[1] or '']) -%}
    {%- if key not in counts -%}
      {%- do counts.update({key: {'schema_name': row[0], 'table_name': row[1], 'runs': 0, 'results': 0, 'events': 0}}) -%}
    {%- endif -%}
    {%- do counts[key].update({kind: counts[key][kind] + (row[2] | int)}) -%}
  {%- endfor -%}
{% endmacro %}

{#- What a delete would remove, per table, without changing anything. -#}
{% macro retention_plan_counts(policy) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set doomed = profilemesh.retention_doomed_cte(policy) -%}
  {%- set results = profilemesh.storage_relation('results') -%}
  {%- set events = profilemesh.storage_relation('events') -%}
  {%- set d_table = 'd.' ~ c.schema_name ~ ', d.' ~ c.dataset_name -%}
  {%- set counts = {} -%}
  {%- do profilemesh.retention_add_counts(counts, 'runs', run_query(doomed
      ~ ' select ' ~ d_table ~ ', count(*) from doomed d group by ' ~ d_table).rows) -%}
  {%- do profilemesh.retention_add_counts(counts, 'results', run_query(doomed
      ~ ' select ' ~ d_table ~ ', count(*) from doomed d join ' ~ results ~ ' x on x.' ~ c.run_id ~ ' = d.' ~ c.run_id
      ~ ' and x.' ~ c.schema_name ~ ' = d.' ~ c.schema_name ~ ' and x.' ~ c.dataset_name ~ ' = d.' ~ c.dataset_name
      ~ ' group by ' ~ d_table).rows) -%}
  {%- do profilemesh.retention_add_counts(counts, 'results', run_query(doomed
      ~ ' select x.' ~ c.schema_name ~ ', x.' ~ c.dataset_name ~ ', count(*) from ' ~ results ~ ' x where '
      ~ profilemesh.retention_unattached_results_where(policy) ~ ' group by x.' ~ c.schema_name ~ ', x.' ~ c.dataset_name).rows) -%}
  {%- do profilemesh.retention_add_counts(counts, 'events', run_query(doomed
      ~ ' select ' ~ d_table ~ ', count(*) from doomed d join ' ~ events ~ ' e on e.' ~ c.run_id ~ ' = d.' ~ c.run_id
      ~ ' and e.' ~ c.schema_name ~ ' = d.' ~ c.schema_name ~ ' and e.' ~ c.table_name ~ ' = d.' ~ c.dataset_name
      ~ ' group by ' ~ d_table).rows) -%}
  {%- do profilemesh.retention_add_counts(counts, 'events', run_query(doomed
      ~ ' select e.' ~ c.schema_name ~ ', e.' ~ c.table_name ~ ', count(*) from '
      ~ profilemesh.retention_unattached_events_from(policy) ~ ' group by e.' ~ c.schema_name ~ ', e.' ~ c.table_name).rows) -%}
  {%- do return(counts) -%}
{% endmacro %}

{#- One row per table: what goes (or went) and how many runs stay, tables in name order. -#}
{% macro retention_table_rows(policy, counts, dry_run) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set runs = profilemesh.storage_relation('runs') -%}
  {%- set totals = run_query('select r.' ~ c.schema_name ~ ', r.' ~ c.dataset_name ~ ', count(*) from ' ~ runs
      ~ ' r where ' ~ profilemesh.retention_table_filter(policy, 'r', 'dataset_name')
      ~ ' group by r.' ~ c.schema_name ~ ', r.' ~ c.dataset_name) -%}
  {%- set stored = {} -%}
  {%- do profilemesh.retention_add_counts(stored, 'runs', totals.rows) -%}
  {%- for key, row in stored.items() if key not in counts -%}
    {%- do counts.update({key: {'schema_name': row.schema_name, 'table_name': row.table_name, 'runs': 0, 'results': 0, 'events': 0}}) -%}
  {%- endfor -%}
  {%- set rows = [] -%}
  {%- for key in counts | sort -%}
    {%- set row = counts[key] -%}
    {%- set now_stored = stored[key].runs if key in stored else 0 -%}
    {%- do row.update({'runs_kept': (now_stored - row.runs) if dry_run else now_stored}) -%}
    {%- do rows.append(row) -%}
  {%- endfor -%}
  {%- do return(rows) -%}
{% endmacro %}

{#- The delete: runs (with their results and events) in batches, then results and events that belong
    to no run. Each batch is one transaction. Returns the number of batches; counts gets what went. -#}
{% macro retention_delete(ctx, policy, counts) %}
  {%- set ns = {'batches': 0} -%}
  {%- set kinds = ['runs', 'unattached_events', 'unattached_results'] -%}
  {%- for kind in kinds -%}
    {%- set state = {'done': false} -%}
    {#- Every batch removes what it selected, so a phase ends within (rows / batch_size) + 1 rounds;
        rows that a concurrent writer makes old meanwhile are left for the next run. -#}
    {%- set rounds = (profilemesh.retention_pending(policy, kind) // policy.batch_size) + 2 -%}
    {%- for round in range(rounds) if not state.done -%}
      {%- do profilemesh.renew_migration_lock(ctx) -%}
      {%- set deleted = profilemesh.retention_delete_batch(ctx, policy, kind, counts, ns.batches + 1) -%}
      {%- if deleted == 0 -%}
        {%- do state.update({'done': true}) -%}
      {%- else -%}
        {%- do ns.update({'batches': ns.batches + 1}) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- do return(ns.batches) -%}
{% endmacro %}

{#- How many rows of a kind would go now. -#}
{% macro retention_pending(policy, kind) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set doomed = profilemesh.retention_doomed_cte(policy) -%}
  {%- if kind == 'runs' -%}
    {%- set sql = doomed ~ ' select count(*) from doomed d' -%}
  {%- elif kind == 'unattached_events' -%}
    {%- set sql = doomed ~ ' select count(*) from ' ~ profilemesh.retention_unattached_events_from(policy) -%}
  {%- else -%}
    {%- set sql = 'select count(*) from ' ~ profilemesh.storage_relation('results') ~ ' x where '
        ~ profilemesh.retention_unattached_results_where(policy) -%}
  {%- endif -%}
  {%- do return(run_query(sql).rows[0][0] | int) -%}
{% endmacro %}

{#- One batch of one kind, in one transaction. Returns how many rows it selected (0: phase done). -#}
{% macro retention_delete_batch(ctx, policy, kind, counts, batch_number) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set doomed = profilemesh.retention_doomed_cte(policy) -%}
  {%- set runs = profilemesh.storage_relation('runs') -%}
  {%- set results = profilemesh.storage_relation('results') -%}
  {%- set events = profilemesh.storage_relation('events') -%}
  {%- set limit = ' limit ' ~ policy.batch_size -%}
  {%- if kind == 'runs' -%}
    {%- set picked = run_query(doomed ~ ' select d.' ~ c.run_id ~ ', d.' ~ c.dataset_name ~ ', d.' ~ c.schema_name
        ~ ' from doomed d order by d.' ~ c.profiled_at ~ ', d.' ~ c.run_id ~ ', d.' ~ c.schema_name ~ ', d.' ~ c.dataset_name
        ~ limit) -%}
    {%- if not picked.rows -%}{%- do return(0) -%}{%- endif -%}
    {%- set pairs = [] -%}
    {%- for row in picked.rows -%}
      {%- do pairs.append({'run_id': row[0], 'dataset_name': row[1], 'schema_name': row[2]}) -%}
    {%- endfor -%}
    {%- set on_results = profilemesh.retention_pairs_condition(pairs, 'dataset_name') -%}
    {%- set on_events = profilemesh.retention_pairs_condition(pairs, 'table_name') -%}
    {%- do profilemesh.retention_begin(ctx) -%}
    {#- Counted inside the transaction, so the numbers are exactly what the deletes remove. -#}
    {%- set per_run = [] -%}
    {%- for row in picked.rows -%}{%- do per_run.append([row[2], row[1], 1]) -%}{%- endfor -%}
    {%- do profilemesh.retention_add_counts(counts, 'runs', per_run) -%}
    {%- for kind_name, relation, column, condition in [('results', results, 'dataset_name', on_results), ('events', events, 'table_name', on_events)] -%}
      {%- set found = run_query('select ' ~ c.schema_name ~ ', ' ~ c[column] ~ ', count(*) from ' ~ relation ~ ' where '
          ~ condition ~ ' group by ' ~ c.schema_name ~ ', ' ~ c[column]) -%}
      {%- do profilemesh.retention_add_counts(counts, kind_name, found.rows) -%}
    {%- endfor -%}
    {#- Children first, then the runs: no result or event is ever left without its run, and no alert
        delivery without its event. -#}
    {%- do run_query('delete from ' ~ results ~ ' where ' ~ on_results) -%}
    {#- A run's distributions (schema version 7) are keyed like its results, and go with them. -#}
    {%- do run_query('delete from ' ~ profilemesh.storage_relation('distributions') ~ ' where ' ~ on_results) -%}
    {%- do profilemesh.retention_delete_deliveries('select ' ~ c.event_id ~ ' from ' ~ events ~ ' where ' ~ on_events) -%}
    {%- do run_query('delete from ' ~ events ~ ' where ' ~ on_events) -%}
    {%- do profilemesh.emit('retention_children_deleted', {'batch': batch_number, 'runs': pairs | length}) -%}
    {%- do run_query('delete from ' ~ runs ~ ' where ' ~ profilemesh.retention_pairs_condition(pairs, 'dataset_name')) -%}
    {%- do profilemesh.retention_commit(ctx) -%}
  {%- elif kind == 'unattached_events' -%}
    {%- set picked = run_query(doomed ~ ' select e.' ~ c.event_id ~ ', e.' ~ c.schema_name ~ ', e.' ~ c.table_name
        ~ ' from ' ~ profilemesh.retention_unattached_events_from(policy) ~ ' order by e.' ~ c.timestamp ~ ', e.' ~ c.event_id ~ limit) -%}
    {%- if not picked.rows -%}{%- do return(0) -%}{%- endif -%}
    {%- do profilemesh.retention_delete_ids(ctx, events, c.event_id, picked.rows, 'events', counts) -%}
  {%- else -%}
    {%- set picked = run_query('select x.' ~ c.id ~ ', x.' ~ c.schema_name ~ ', x.' ~ c.dataset_name ~ ' from ' ~ results
        ~ ' x where ' ~ profilemesh.retention_unattached_results_where(policy) ~ ' order by x.' ~ c.id ~ limit) -%}
    {%- if not picked.rows -%}{%- do return(0) -%}{%- endif -%}
    {%- do profilemesh.retention_delete_ids(ctx, results, c.id, picked.rows, 'results', counts) -%}
  {%- endif -%}
  {%- do profilemesh.emit('retention_batch', {'batch': batch_number, 'kind': kind, 'rows': picked.rows | length}) -%}
  {%- do profilemesh.say('retention batch ' ~ batch_number ~ ': ' ~ (picked.rows | length) ~ ' '
      ~ ('runs' if kind == 'runs' else kind | replace('_', ' ')) ~ ' deleted') -%}
  {%- do return(picked.rows | length) -%}
{% endmacro %}

{#- Rows picked as (id, schema, table): counted, then deleted by id, in one transaction. -#}
{% macro retention_delete_ids(ctx, relation, id_column, rows, kind, counts) %}
  {%- set ids = [] -%}
  {%- set per_table = [] -%}
  {%- for row in rows -%}
    {%- do ids.append(profilemesh.sql_literal(row[0])) -%}
    {%- do per_table.append([row[1], row[2], 1]) -%}
  {%- endfor -%}
  {%- do profilemesh.retention_begin(ctx) -%}
  {%- if kind == 'events' -%}{%- do profilemesh.retention_delete_deliveries(ids | join(', ')) -%}{%- endif -%}
  {%- do run_query('delete from ' ~ relation ~ ' where ' ~ id_column ~ ' in (' ~ ids | join(', ') ~ ')') -%}
  {%- do profilemesh.retention_commit(ctx) -%}
  {%- do profilemesh.retention_add_counts(counts, kind, per_table) -%}
{% endmacro %}

{#- The alert deliveries (schema version 5) of the events `event_ids` (a list of literals or a subquery)
    go with them, in the same transaction: a delivery says where an event's alert went. -#}
{% macro retention_delete_deliveries(event_ids) %}
  {%- do run_query('delete from ' ~ profilemesh.storage_relation('alert_deliveries') ~ ' where '
      ~ profilemesh.quote_column('event_id') ~ ' in (' ~ event_ids ~ ')') -%}
{% endmacro %}

{#- Deletes are transactional on every warehouse (Snowflake included: DML honours BEGIN/COMMIT), so
    these do not depend on transactional DDL as the migration engine's begin/commit do. -#}
{% macro retention_begin(ctx) %}{%- do adapter.dispatch('begin_transaction', 'profilemesh')() -%}{% endmacro %}
{% macro retention_commit(ctx) %}{%- do adapter.dispatch('commit_transaction', 'profilemesh')() -%}{% endmacro %}
