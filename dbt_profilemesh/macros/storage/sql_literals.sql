{#- dbt's run_query has no bind parameters, so every value that reaches SQL from the engine goes
    through these two macros and nowhere else. -#}

{% macro sql_literal(value) %}
  {%- if value is none -%}
    {%- do return('null') -%}
  {%- elif value is sameas true or value is sameas false -%}
    {%- do return('true' if value else 'false') -%}
  {%- elif value is number -%}
    {%- do return(value | string) -%}
  {%- else -%}
    {%- do return("'" ~ profilemesh.escape_string_body(value | string) ~ "'") -%}
  {%- endif -%}
{% endmacro %}

{% macro escape_string_body(text) %}
  {{- return(adapter.dispatch('escape_string_body', 'profilemesh')(text)) -}}
{% endmacro %}

{#- PostgreSQL (standard_conforming_strings) and DuckDB treat backslash literally. -#}
{% macro default__escape_string_body(text) %}
  {%- do profilemesh.require_supported_adapter('escape_string_body') -%}
  {%- do return(text.replace("'", "''")) -%}
{% endmacro %}

{#- Snowflake treats backslash as an escape character inside single quotes. -#}
{% macro snowflake__escape_string_body(text) %}
  {%- do return(text.replace("\\", "\\\\").replace("'", "''")) -%}
{% endmacro %}

{#- Column identifiers, quoted by the adapter. -#}
{% macro quote_column(name) %}
  {{- return(adapter.dispatch('quote_column', 'profilemesh')(name)) -}}
{% endmacro %}

{% macro default__quote_column(name) %}
  {%- do profilemesh.require_supported_adapter('quote_column') -%}
  {%- do return(adapter.quote(name)) -%}
{% endmacro %}

{#- Snowflake folds unquoted names to upper case; quoting the upper-case form keeps any character
    safe while naming the same column an unquoted (or SQLAlchemy-written) lower-case name does. -#}
{% macro snowflake__quote_column(name) %}
  {%- do return(adapter.quote(name.upper())) -%}
{% endmacro %}

{#- The client's clock in UTC, as a typed timestamp literal; the ledger stores naive UTC. -#}
{% macro utc_timestamp_literal(dt) %}{{ return(adapter.dispatch('utc_timestamp_literal', 'profilemesh')(dt)) }}{% endmacro %}
{% macro default__utc_timestamp_literal(dt) %}
  {%- do return('cast(' ~ profilemesh.sql_literal(dt.strftime('%Y-%m-%d %H:%M:%S.%f')) ~ ' as '
      ~ profilemesh.type_timestamp() ~ ')') -%}
{% endmacro %}

{% macro utc_now() %}
  {%- do return(modules.datetime.datetime.now(modules.pytz.utc).replace(tzinfo=none)) -%}
{% endmacro %}
