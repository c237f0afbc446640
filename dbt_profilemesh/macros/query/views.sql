{#- Helpers of the query views (models/query/). -#}

{#- Drift events, as opposed to lifecycle events (ProfilingStarted, profiling_error, ...). -#}
{% macro drift_event_types() %}
  {%- do return(['DataDriftDetected', 'SchemaChangeDetected']) -%}
{% endmacro %}

{#- Drift severities, lowest first: a severity's rank is its position, so "the highest severity" is a max(). -#}
{% macro severities() %}
  {%- do return(['none', 'low', 'medium', 'high']) -%}
{% endmacro %}

{#- Unknown values rank nowhere (NULL). -#}
{% macro severity_rank(column) -%}
  case {{ column }}{% for name in profilemesh.severities() %} when '{{ name }}' then {{ loop.index0 }}{% endfor %} end
{%- endmacro %}

{% macro severity_from_rank(column) -%}
  case {{ column }}{% for name in profilemesh.severities() %} when {{ loop.index0 }} then '{{ name }}'{% endfor %} end
{%- endmacro %}

{#- A run's outcome in the runs table. superseded: a bucket's run whose bucket a later run profiled again
    (lookback, --since; docs/guides/PROFILING.md): kept, and left out of every history. -#}
{% macro run_statuses() %}
  {%- do return(['completed', 'failed', 'superseded']) -%}
{% endmacro %}

{#- What a row of profilemesh_distributions is (schema version 7), and how it was computed: `sampled`
    from a block sample of a big table (profiling.distributions.sample_above_rows). -#}
{% macro distribution_kinds() %}
  {%- do return(['quantile', 'histogram', 'top_value', 'other', 'segment', 'segment_other', 'segment_metric']) -%}
{% endmacro %}

{% macro distribution_modes() %}
  {%- do return(['exact', 'approximate', 'sampled']) -%}
{% endmacro %}

{#- The storage schema version these views are written for: the package's newest migration. -#}
{% macro views_schema_version() %}
  {%- do return(profilemesh.load_migrations() | length) -%}
{% endmacro %}

{#- events.metadata is TEXT holding JSON, except on Snowflake where it is a VARIANT: the views expose
    it as JSON text everywhere. -#}
{% macro json_as_text(column) %}
  {{- return(adapter.dispatch('json_as_text', 'profilemesh')(column)) -}}
{% endmacro %}

{% macro default__json_as_text(column) -%}
  {%- do profilemesh.require_supported_adapter('json_as_text') -%}
  {{ column }}
{%- endmacro %}

{% macro snowflake__json_as_text(column) -%}
  to_json({{ column }})
{%- endmacro %}

{#- Whether profilemesh_runs_v counts each run's metrics and drift with correlated subqueries (true)
    or joins to aggregates (false): the shape each engine plans best (see the model's comment). -#}
{% macro runs_view_correlated() %}
  {{- return(adapter.dispatch('runs_view_correlated', 'profilemesh')()) -}}
{% endmacro %}

{#- DuckDB and Snowflake: joins to aggregates, whose filters they push down. -#}
{% macro default__runs_view_correlated() %}
  {%- do profilemesh.require_supported_adapter('runs_view_correlated') -%}
  {{- return(false) -}}
{% endmacro %}

{#- PostgreSQL evaluates the subqueries only for the rows a page returns. -#}
{% macro postgres__runs_view_correlated() %}
  {{- return(true) -}}
{% endmacro %}

{#- A unique key of several columns (no dbt_utils dependency for one test). -#}
{% test unique_combination(model, columns) %}
  select {{ columns | join(', ') }}, count(*) as occurrences
  from {{ model }}
  group by {{ columns | join(', ') }}
  having count(*) > 1
{% endtest %}
