{#- dbt run-operation profilemesh_retention --args '{keep_days: 90, keep_runs_per_table: 10, dry_run: true}'

    Deletes old runs with their results and events, by the policy in policy.sql. dry_run (the
    default) changes nothing and reports, per table, how many runs, results and events would go.
    With dry_run: false it deletes in batches of batch_size runs, each batch one transaction that
    deletes the runs' results and events first and then the runs, so a batch is all or nothing and
    an interruption leaves whole runs only; running it again finishes the work. A delete holds the
    migration lock (shared on PostgreSQL), so retention and migrations
    never overlap.
    The CLI (`profilemesh retention`) runs this same operation. -#}
{% macro profilemesh_retention(keep_days=none, keep_runs_per_table=1, table=none, dry_run=true, batch_size=500,
                               lock_timeout=60, applied_by=none, profilemesh_version=none) %}
  {%- set policy = profilemesh.retention_policy(keep_days, keep_runs_per_table, table, batch_size) -%}
  {%- set ctx = profilemesh.engine_context(dry_run, applied_by, profilemesh_version) -%}
  {#- The lock a delete holds: PostgreSQL the migration's advisory key, shared (a migration waits for
      retention and retention for a migration; producers, which take it shared too, go on writing);
      DuckDB the file, held by this dbt process throughout; Snowflake the migration lease (it has no
      shared mode), renewed before every batch. -#}
  {%- do ctx.update({'operation_name': 'profilemesh retention', 'lock_shared': true}) -%}
  {%- if not dry_run -%}{%- do profilemesh.acquire_migration_lock(ctx, lock_timeout) -%}{%- endif -%}
  {%- do profilemesh.require_writable(ctx) -%}
  {%- do profilemesh.retention_check_table(ctx, policy) -%}

  {%- if dry_run -%}
    {%- set counts = profilemesh.retention_plan_counts(policy) -%}
    {%- set batches = 0 -%}
  {%- else -%}
    {%- set counts = {} -%}
    {%- set batches = profilemesh.retention_delete(ctx, policy, counts) -%}
    {%- do profilemesh.release_migration_lock(ctx) -%}
  {%- endif -%}
  {%- set tables = profilemesh.retention_table_rows(policy, counts, dry_run) -%}

  {%- set totals = {'runs': 0, 'results': 0, 'events': 0} -%}
  {%- for row in tables -%}
    {%- for key in ['runs', 'results', 'events'] -%}{%- do totals.update({key: totals[key] + row[key]}) -%}{%- endfor -%}
  {%- endfor -%}
  {%- set verb = 'would delete' if dry_run else 'deleted' -%}
  {%- do profilemesh.say('retention ' ~ ('plan' if dry_run else 'apply') ~ ': keep_days ' ~ policy.keep_days
      ~ ' (cutoff ' ~ policy.cutoff.strftime('%Y-%m-%d %H:%M:%S') ~ ' UTC), keep_runs_per_table ' ~ policy.keep_runs_per_table) -%}
  {%- for row in tables -%}
    {%- do profilemesh.say('  ' ~ ((row.schema_name ~ '.') if row.schema_name else '') ~ (row.table_name or '(no table)')
        ~ ': ' ~ verb ~ ' ' ~ row.runs ~ ' runs, ' ~ row.results ~ ' results, ' ~ row.events ~ ' events; '
        ~ row.runs_kept ~ ' runs kept') -%}
  {%- endfor -%}
  {%- do profilemesh.say(verb ~ ' ' ~ totals.runs ~ ' runs, ' ~ totals.results ~ ' results, ' ~ totals.events
      ~ ' events' ~ ('' if dry_run else ' in ' ~ batches ~ ' batches') ~ ('; run again with dry_run: false to delete' if dry_run and totals.runs + totals.results + totals.events else '')) -%}
  {%- do profilemesh.emit('result', {
      'operation': 'retention', 'dry_run': dry_run, 'keep_days': policy.keep_days,
      'keep_runs_per_table': policy.keep_runs_per_table, 'table': table, 'batch_size': policy.batch_size,
      'cutoff': policy.cutoff.strftime('%Y-%m-%dT%H:%M:%SZ'), 'batches': batches, 'tables': tables, 'totals': totals}) -%}
{% endmacro %}
