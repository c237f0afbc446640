{#- DDL statements for the declarative migration steps. Each returns a list of SQL statements, so a
    step that needs a prerequisite (a DuckDB sequence) stays one step. -#}

{% macro column_definition(relation, column) %}
  {%- set type_sql = profilemesh.type_identity(relation) if column.type == 'identity'
                     else profilemesh.render_type(column.type) -%}
  {%- set parts = [profilemesh.quote_column(column.name), type_sql] -%}
  {%- if column.get('default') == 'utc_now' -%}{%- do parts.append('DEFAULT ' ~ profilemesh.default_utc_now()) -%}{%- endif -%}
  {%- if not column.get('nullable', true) -%}{%- do parts.append('NOT NULL') -%}{%- endif -%}
  {%- do return(parts | join(' ')) -%}
{% endmacro %}

{% macro create_table_sql(relation, columns, primary_key=[]) %}
  {%- set defs = [] -%}
  {%- for column in columns -%}{%- do defs.append(profilemesh.column_definition(relation, column)) -%}{%- endfor -%}
  {%- if primary_key -%}
    {%- set pk = [] -%}
    {%- for name in primary_key -%}{%- do pk.append(profilemesh.quote_column(name)) -%}{%- endfor -%}
    {%- do defs.append('PRIMARY KEY (' ~ pk | join(', ') ~ ')') -%}
  {%- endif -%}
  {%- set statements = profilemesh.identity_prerequisites(relation, columns) -%}
  {%- do statements.append('CREATE TABLE IF NOT EXISTS ' ~ relation ~ ' (\n    ' ~ defs | join(',\n    ') ~ '\n)') -%}
  {%- do return(statements) -%}
{% endmacro %}

{% macro add_column_sql(relation, column) %}
  {%- do return(['ALTER TABLE ' ~ relation ~ ' ADD COLUMN ' ~ profilemesh.column_definition(relation, column)]) -%}
{% endmacro %}

{% macro drop_column_sql(relation, name) %}
  {%- do return(['ALTER TABLE ' ~ relation ~ ' DROP COLUMN ' ~ profilemesh.quote_column(name)]) -%}
{% endmacro %}

{#- A column's type changed to a wider one of the same kind (integer -> bigint). Snowflake's integers
    are all NUMBER(38,0): there is nothing to widen. -#}
{% macro widen_column_sql(relation, name, logical_type) %}
  {{- return(adapter.dispatch('widen_column_sql', 'profilemesh')(relation, name, logical_type)) -}}
{% endmacro %}
{% macro default__widen_column_sql(relation, name, logical_type) %}
  {%- do return(['ALTER TABLE ' ~ relation ~ ' ALTER COLUMN ' ~ profilemesh.quote_column(name) ~ ' TYPE '
      ~ profilemesh.render_type(logical_type)]) -%}
{% endmacro %}
{% macro snowflake__widen_column_sql(relation, name, logical_type) %}{{ return([]) }}{% endmacro %}

{% macro create_index_sql(relation, index_name, columns) %}
  {%- set cols = [] -%}
  {%- for name in columns -%}{%- do cols.append(profilemesh.quote_column(name)) -%}{%- endfor -%}
  {%- do return(['CREATE INDEX IF NOT EXISTS ' ~ adapter.quote(index_name) ~ ' ON ' ~ relation ~ ' (' ~ cols | join(', ') ~ ')']) -%}
{% endmacro %}

{#- Index names are per schema on PostgreSQL and capped at 63 bytes: derive them from the (possibly
    overridden) table name, hashing when too long, so two stores in one schema never collide. -#}
{% macro index_name(relation, suffix) %}
  {%- set name = relation.identifier ~ '__' ~ suffix -%}
  {%- if name | length > 63 -%}{%- set name = 'pm_' ~ local_md5(relation.identifier)[:12] ~ '__' ~ suffix -%}{%- endif -%}
  {%- do return(name[:63]) -%}
{% endmacro %}

{% macro supports_secondary_indexes() %}{{ return(adapter.dispatch('supports_secondary_indexes', 'profilemesh')()) }}{% endmacro %}
{% macro default__supports_secondary_indexes() %}{{ return(true) }}{% endmacro %}
{#- Snowflake standard tables have no CREATE INDEX (micro-partition pruning instead). -#}
{% macro snowflake__supports_secondary_indexes() %}{{ return(false) }}{% endmacro %}
{#- DuckDB prunes with zone maps; ART indexes must fit in memory and make older DuckDB versions refuse
    ALTER TABLE on the indexed table, which would block later migrations. -#}
{% macro duckdb__supports_secondary_indexes() %}{{ return(false) }}{% endmacro %}

{% macro identity_prerequisites(relation, columns) %}
  {{- return(adapter.dispatch('identity_prerequisites', 'profilemesh')(relation, columns)) -}}
{% endmacro %}
{% macro default__identity_prerequisites(relation, columns) %}{{ return([]) }}{% endmacro %}
{% macro duckdb__identity_prerequisites(relation, columns) %}
  {%- for column in columns if column.type == 'identity' -%}
    {%- do return(['CREATE SEQUENCE IF NOT EXISTS ' ~ profilemesh.identity_sequence(relation)]) -%}
  {%- endfor -%}
  {%- do return([]) -%}
{% endmacro %}

{% macro identity_sequence(relation) %}
  {%- do return(api.Relation.create(database=relation.database, schema=relation.schema,
                                    identifier=relation.identifier ~ '_id_seq')) -%}
{% endmacro %}

{#- Column default for "now, in UTC" (events.created_at in the ProfileMesh-era shape). -#}
{% macro default_utc_now() %}{{ return(adapter.dispatch('default_utc_now', 'profilemesh')()) }}{% endmacro %}
{% macro default__default_utc_now() %}{{ return("(now() at time zone 'utc')") }}{% endmacro %}
{% macro duckdb__default_utc_now() %}{{ return("(get_current_timestamp() at time zone 'UTC')") }}{% endmacro %}
{% macro snowflake__default_utc_now() %}{{ return('sysdate()') }}{% endmacro %}

{#- Text -> float that yields NULL for anything that is not a finite number, never an error. -#}
{% macro safe_cast_float(expression) %}{{ return(adapter.dispatch('safe_cast_float', 'profilemesh')(expression)) }}{% endmacro %}
{#- PostgreSQL has no TRY_CAST: a regex admits plain decimal/scientific numbers; at most 250 digits
    before and after the point and 3 in the exponent keep the cast itself from overflowing. NaN/Infinity
    text stays NULL. The digit caps are checked apart, and only on text long enough to break them:
    written into the regex as {1,250} they made it ~20x slower (10M rows: minutes; benchmarks/migrations.py). -#}
{% macro default__safe_cast_float(expression) %}
  {%- set pattern = "'^\\s*[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]{1,3})?\\s*$'" -%}
  {%- set within_caps = "length(" ~ expression ~ ") < 251 or " ~ expression ~ " !~ '[0-9]{251}'" -%}
  {#- Nested CASE: PostgreSQL only guarantees evaluation order between CASE branches. -#}
  {%- do return("case when " ~ expression ~ " ~ " ~ pattern ~ " then case when " ~ within_caps
      ~ " then case when abs(cast(" ~ expression ~ " as numeric)) < 1e308 then cast(cast(" ~ expression
      ~ " as numeric) as double precision) end end end") -%}
{% endmacro %}
{% macro duckdb__safe_cast_float(expression) %}
  {%- do return("case when isfinite(try_cast(" ~ expression ~ " as double)) then try_cast(" ~ expression ~ " as double) end") -%}
{% endmacro %}
{% macro snowflake__safe_cast_float(expression) %}
  {%- do return("case when try_to_double(" ~ expression ~ ") not in ('NaN'::float, 'inf'::float, '-inf'::float) then try_to_double(" ~ expression ~ ") end") -%}
{% endmacro %}
