{#- Helpers of the generic tests (no_drift, fresh, row_count_between, metric_between): they read what
    ProfileMesh stored about the model under test from the storage tables (storage_relation), never the
    query views, so they work before and without `dbt run` of this package's models.

    The model under test is matched to stored runs by its relation's schema and identifier,
    case-insensitively (PostgreSQL, DuckDB and Snowflake resolve unquoted names without regard to case),
    and a table profiled without a schema (schema_name '' or NULL in the store) matches any schema. -#}

{#- The relation the test is attached to. dbt hands a generic test its model as a relation, or, when the
    test sets `where`, as a subquery string around it: then the relation is read from the graph. -#}
{% macro tested_relation(model) %}
  {%- if model.identifier is defined and model.identifier is not none -%}
    {%- do return(model) -%}
  {%- endif -%}
  {%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' and node.alias == this.identifier -%}
      {%- set attached = node.get('attached_node') or (node.depends_on.nodes | last) -%}
      {%- set parent = graph.nodes.get(attached) or graph.sources.get(attached) -%}
      {%- if parent -%}
        {%- do return(api.Relation.create(database=parent.database, schema=parent.schema,
                                          identifier=parent.get('alias') or parent.get('identifier') or parent.name)) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh: cannot tell which model this test is attached to') -%}
  {%- endif -%}
  {%- do return(none) -%}
{% endmacro %}

{#- {schema, table}: what the store's rows are matched on; `schema_name` / `table_name` arguments of a
    test override the model's own (a table ProfileMesh profiles under another name). -#}
{% macro test_target(model, schema_name=none, table_name=none) %}
  {%- set relation = profilemesh.tested_relation(model) -%}
  {%- set schema = schema_name if schema_name is not none else (relation.schema if relation is not none else '') -%}
  {%- set table = table_name if table_name is not none else (relation.identifier if relation is not none else '') -%}
  {%- do return({'schema': (schema or '') | string, 'table': (table or '') | string}) -%}
{% endmacro %}

{% macro target_label(target) %}
  {%- do return((target.schema ~ '.' if target.schema else '') ~ target.table) -%}
{% endmacro %}

{#- The store's rows of the tested table: `schema_column` and `table_column` of some storage table. -#}
{% macro matches_target(schema_column, table_column, target) -%}
  lower({{ table_column }}) = {{ profilemesh.sql_literal(target.table | lower) }}
    and lower(coalesce({{ schema_column }}, '')) in ('', {{ profilemesh.sql_literal(target.schema | lower) }})
{%- endmacro %}

{#- Whether ProfileMesh stored any run of the tested table. When not (or when the store is missing),
    the test warns and passes: a model added today has no history until it is first profiled. -#}
{% macro has_history(test_name, target) %}
  {%- if not execute -%}{%- do return(true) -%}{%- endif -%}
  {%- set runs = profilemesh.storage_relation('runs') -%}
  {%- set existing = adapter.get_relation(database=runs.database, schema=runs.schema, identifier=runs.identifier) -%}
  {%- set found = false -%}
  {%- if existing is not none -%}
    {%- set query -%}
      select count(*) from {{ runs }} where {{ profilemesh.matches_target('schema_name', 'dataset_name', target) }}
    {%- endset -%}
    {%- set found = run_query(query).columns[0].values()[0] > 0 -%}
  {%- endif -%}
  {%- if not found -%}
    {%- do exceptions.warn('ProfileMesh ' ~ test_name ~ ': no ProfileMesh history for table '
        ~ profilemesh.target_label(target) ~ ' yet (no run of it in ' ~ runs ~ '); the test passes until ProfileMesh profiles it') -%}
  {%- endif -%}
  {%- do return(found) -%}
{% endmacro %}

{#- The columns every test returns, one row per failure (what `store_failures` keeps): `values` maps
    some of them to SQL expressions, the others are typed NULLs. -#}
{% macro failure_columns() %}
  {%- do return([
      ('schema_name', 'text'), ('table_name', 'text'), ('column_name', 'text'), ('metric_name', 'text'),
      ('event_type', 'text'), ('severity', 'text'), ('run_id', 'text'), ('recorded_at', 'timestamp'),
      ('observed_value', 'float'), ('baseline_value', 'float'), ('change_percent', 'float'),
      ('min_value', 'float'), ('max_value', 'float')]) -%}
{% endmacro %}

{% macro failure_select(values) -%}
  select
  {%- for name, logical in profilemesh.failure_columns() %}
    {% if name in values %}cast({{ values[name] }} as {{ profilemesh.render_type(logical) }}){% else %}cast(null as {{ profilemesh.render_type(logical) }}){% endif %} as {{ name }}{{ ',' if not loop.last }}
  {%- endfor %}
{%- endmacro %}

{#- A query with no rows, of the failure columns (a model with no history yet). -#}
{% macro no_failures_sql() -%}
  {{ profilemesh.failure_select({}) }}
  where 1 = 0
{%- endmacro %}

{#- The stored runs of the tested table that completed, newest first (limit 1 = the latest). -#}
{% macro latest_completed_run_sql(target) -%}
  select run_id, schema_name, dataset_name, profiled_at, row_count
  from {{ profilemesh.storage_relation('runs') }}
  where {{ profilemesh.matches_target('schema_name', 'dataset_name', target) }}
    and status = 'completed'
  order by profiled_at desc, run_id desc
  limit 1
{%- endmacro %}

{#- The cut-off of a time window, as a timestamp literal in the store's naive UTC. -#}
{% macro hours_ago_literal(hours, argument) %}
  {%- if hours is not number or hours <= 0 -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh: ' ~ argument ~ ' must be a positive number of hours, got ' ~ hours) -%}
  {%- endif -%}
  {%- do return(profilemesh.utc_timestamp_literal(profilemesh.utc_now() - modules.datetime.timedelta(hours=hours))) -%}
{% endmacro %}

{#- dbt reports a failing test as "Got N results": this logs what each failing row is (table, column,
    metric, event), at most 20 of them, by running the test's own query once more. -#}
{% macro log_failures(test_name, failures_sql) %}
  {%- if not execute -%}{%- do return(none) -%}{%- endif -%}
  {%- set config_where = config.get('where') -%}
  {%- set query -%}
    select * from ({{ failures_sql }}) profilemesh_failures
    {%- if config_where %} where {{ config_where }}{% endif %}
  {%- endset -%}
  {%- set table = run_query(query) -%}
  {%- for row in table.rows[:20] -%}
    {%- set parts = ['table ' ~ ((row['schema_name'] ~ '.') if row['schema_name'] else '') ~ row['table_name']] -%}
    {%- if row['column_name'] -%}{%- do parts.append('column ' ~ row['column_name']) -%}{%- endif -%}
    {%- if row['metric_name'] -%}{%- do parts.append('metric ' ~ row['metric_name']) -%}{%- endif -%}
    {%- do parts.append('event ' ~ row['event_type']) -%}
    {%- if row['severity'] -%}{%- do parts.append('severity ' ~ row['severity']) -%}{%- endif -%}
    {%- for name, label in [('observed_value', 'observed'), ('baseline_value', 'baseline'),
        ('change_percent', 'change %'), ('min_value', 'min'), ('max_value', 'max'),
        ('recorded_at', 'recorded at'), ('run_id', 'run')] if row[name] is not none -%}
      {%- do parts.append(label ~ ' ' ~ row[name]) -%}
    {%- endfor -%}
    {{ log('ProfileMesh ' ~ test_name ~ ' failed: ' ~ parts | join(', '), info=true) }}
  {%- endfor -%}
  {%- if table.rows | length > 20 -%}
    {{ log('ProfileMesh ' ~ test_name ~ ': ' ~ (table.rows | length - 20) ~ ' more failures', info=true) }}
  {%- endif -%}
{% endmacro %}

{#- The failing rows, filtered by the test's `where` config: dbt applies `where` to the model it hands
    a generic test, but these tests read the store, so `where` filters their failures (by any of the
    columns they return) instead. -#}
{% macro test_failures(test_name, failures_sql) %}
  {%- do profilemesh.log_failures(test_name, failures_sql) -%}
  {%- set config_where = config.get('where') -%}
  {%- if config_where -%}
    {%- do return('select * from (' ~ failures_sql ~ ') profilemesh_failures where ' ~ config_where) -%}
  {%- endif -%}
  {%- do return(failures_sql) -%}
{% endmacro %}

{#- A numeric bound of a test, checked: it reaches SQL as a number literal, never as text. -#}
{% macro bound_literal(value, argument) %}
  {%- if value is not number or value is sameas true or value is sameas false -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh: ' ~ argument ~ ' must be a number, got ' ~ value) -%}
  {%- endif -%}
  {%- do return(value | string) -%}
{% endmacro %}
