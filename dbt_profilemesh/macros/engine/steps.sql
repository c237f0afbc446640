{#- Declarative migration steps: what SQL a step runs, how to tell whether it has taken effect, and
    how to undo it. Probing is what makes every step idempotent (Snowflake auto-commits DDL, so a
    retry must skip what already happened) and what lets `repair` work out where an attempt stopped. -#}

{% macro step_relation(step) %}
  {%- do return(profilemesh.storage_relation(step.table)) -%}
{% endmacro %}

{% macro step_statements(step) %}
  {%- set relation = profilemesh.step_relation(step) -%}
  {%- if step.op == 'create_table' -%}
    {%- do return(profilemesh.create_table_sql(relation, step.columns, step.get('primary_key', []))) -%}
  {%- elif step.op == 'add_column' -%}
    {%- do return(profilemesh.add_column_sql(relation, step.column)) -%}
  {%- elif step.op == 'create_index' -%}
    {%- if not profilemesh.supports_secondary_indexes() -%}{%- do return([]) -%}{%- endif -%}
    {%- do return(profilemesh.create_index_sql(relation, profilemesh.index_name(relation, step.suffix), step.columns)) -%}
  {%- elif step.op == 'widen_column' -%}
    {%- do return(profilemesh.widen_column_sql(relation, step.column, step.type)) -%}
  {%- elif step.op == 'fill_nulls' -%}
    {%- do return(profilemesh.fill_nulls_sql(relation, step.column, step.get('value'), step.get('lookup'))) -%}
  {%- elif step.op == 'rekey_table' -%}
    {%- do return(profilemesh.rekey_table_sql(relation, step.primary_key, not_null=step.get('not_null', []))) -%}
  {%- elif step.op == 'backfill_float' -%}
    {%- set target_col = profilemesh.quote_column(step.target) -%}
    {%- set source_col = profilemesh.quote_column(step.source) -%}
    {#- Set-based and restartable: only rows not yet backfilled are touched. -#}
    {%- do return(['UPDATE ' ~ relation ~ ' SET ' ~ target_col ~ ' = ' ~ profilemesh.safe_cast_float(source_col)
        ~ ' WHERE ' ~ target_col ~ ' IS NULL AND ' ~ source_col ~ ' IS NOT NULL']) -%}
  {%- else -%}
    {%- do profilemesh.fail("unknown migration step op '" ~ step.op ~ "' in step " ~ step.id) -%}
  {%- endif -%}
{% endmacro %}

{#- Lower-cased column names of a relation; empty when the table does not exist. -#}
{% macro existing_columns(relation) %}
  {%- set names = [] -%}
  {%- for column in profilemesh.describe_columns(relation) -%}{%- do names.append(column.name) -%}{%- endfor -%}
  {%- do return(names) -%}
{% endmacro %}

{#- [{name, data_type}] (both lower-cased) from information_schema, the one catalog view every
    supported warehouse has; dbt's get_columns_in_relation differs per adapter in how it reports a
    missing table. -#}
{% macro describe_columns(relation) %}
  {%- set result = profilemesh.catalog_columns(relation, 'column_name, data_type') -%}
  {%- set columns = [] -%}
  {%- for row in result.rows -%}
    {%- do columns.append({'name': row[0] | lower, 'data_type': row[1] | lower}) -%}
  {%- endfor -%}
  {%- do return(columns) -%}
{% endmacro %}

{#- information_schema.columns of a relation, in column order: `fields` of the rows `condition` keeps. -#}
{% macro catalog_columns(relation, fields, condition='1 = 1') %}
  {%- do return(run_query('SELECT ' ~ fields ~ ' FROM ' ~ profilemesh.columns_view(relation)
      ~ ' AND table_schema = ' ~ profilemesh.sql_literal(profilemesh.catalog_identifier(relation.schema))
      ~ ' AND table_name = ' ~ profilemesh.sql_literal(profilemesh.catalog_identifier(relation.identifier))
      ~ ' AND ' ~ condition ~ ' ORDER BY ordinal_position')) -%}
{% endmacro %}

{#- information_schema.columns narrowed to the relation's database: a per-database view on PostgreSQL
    and Snowflake, one system-wide view on DuckDB. -#}
{% macro columns_view(relation) %}{{ return(adapter.dispatch('columns_view', 'profilemesh')(relation)) }}{% endmacro %}
{% macro default__columns_view(relation) %}{%- do profilemesh.require_supported_adapter('columns_view') -%}{{ return(relation.information_schema('columns') ~ ' WHERE 1 = 1') }}{% endmacro %}
{% macro duckdb__columns_view(relation) %}
  {{- return('information_schema.columns WHERE table_catalog = ' ~ profilemesh.sql_literal(relation.database)) -}}
{% endmacro %}

{#- How the catalog spells a name the adapter renders: as is where identifiers are quoted
    (PostgreSQL, DuckDB), upper case where they are not (Snowflake). -#}
{% macro catalog_identifier(name) %}{{ return(adapter.dispatch('catalog_identifier', 'profilemesh')(name)) }}{% endmacro %}
{% macro default__catalog_identifier(name) %}{%- do profilemesh.require_supported_adapter('catalog_identifier') -%}{{ return(name) }}{% endmacro %}
{% macro snowflake__catalog_identifier(name) %}{{ return(name.upper()) }}{% endmacro %}

{% macro step_effective(step) %}
  {%- set relation = profilemesh.step_relation(step) -%}
  {%- set columns = profilemesh.existing_columns(relation) -%}
  {%- if step.op == 'create_table' -%}
    {%- do return(columns | length > 0) -%}
  {%- elif step.op == 'add_column' -%}
    {%- do return(step.column.name | lower in columns) -%}
  {%- elif step.op == 'create_index' -%}
    {#- Nothing to do where the warehouse has no secondary indexes. -#}
    {%- if not profilemesh.supports_secondary_indexes() -%}{%- do return(true) -%}{%- endif -%}
    {%- if not columns -%}{%- do return(false) -%}{%- endif -%}
    {%- do return(profilemesh.index_exists(relation, profilemesh.index_name(relation, step.suffix))) -%}
  {%- elif step.op == 'widen_column' -%}
    {%- if not profilemesh.widen_column_sql(relation, step.column, step.type) -%}{%- do return(true) -%}{%- endif -%}
    {%- for column in profilemesh.describe_columns(relation) if column.name == step.column | lower -%}
      {%- do return(column.data_type == profilemesh.render_type(step.type) | lower) -%}
    {%- endfor -%}
    {%- do return(false) -%}
  {%- elif step.op == 'fill_nulls' -%}
    {%- if step.column | lower not in columns -%}{%- do return(false) -%}{%- endif -%}
    {%- set pending = run_query('SELECT COUNT(*) FROM (SELECT 1 AS pending FROM ' ~ relation ~ ' t WHERE '
        ~ profilemesh.fill_pending_where(relation, step.column, step.get('lookup')) ~ ' LIMIT 1) probe') -%}
    {%- do return(pending.rows[0][0] | int == 0) -%}
  {%- elif step.op == 'rekey_table' -%}
    {%- do return(profilemesh.primary_key_columns(relation) | sort == step.primary_key | map('lower') | sort) -%}
  {%- elif step.op == 'backfill_float' -%}
    {%- if step.target | lower not in columns or step.source | lower not in columns -%}{%- do return(false) -%}{%- endif -%}
    {#- Whether any row is left, not how many: the probe stops at the first one (a fresh 10M-row backfill
        is probed in milliseconds instead of a full scan with the cast). -#}
    {%- set pending = run_query('SELECT COUNT(*) FROM (SELECT 1 AS pending FROM ' ~ relation ~ ' WHERE '
        ~ profilemesh.quote_column(step.target) ~ ' IS NULL AND '
        ~ profilemesh.safe_cast_float(profilemesh.quote_column(step.source)) ~ ' IS NOT NULL LIMIT 1) probe') -%}
    {%- do return(pending.rows[0][0] | int == 0) -%}
  {%- endif -%}
  {%- do return(false) -%}
{% endmacro %}

{#- Statements that take a step back out (repair --rollback). A created table is only dropped while
    empty: repair never deletes stored rows. -#}
{% macro step_undo_statements(step) %}
  {%- set relation = profilemesh.step_relation(step) -%}
  {%- if step.op == 'create_table' -%}
    {%- set rows = run_query('SELECT COUNT(*) FROM ' ~ relation) -%}
    {%- if rows.rows[0][0] | int > 0 -%}
      {%- do profilemesh.fail('cannot roll back step ' ~ step.id ~ ': ' ~ relation ~ ' already holds rows') -%}
    {%- endif -%}
    {%- do return(['DROP TABLE ' ~ relation]) -%}
  {%- elif step.op == 'add_column' -%}
    {%- do return(profilemesh.drop_column_sql(relation, step.column.name)) -%}
  {%- elif step.op == 'create_index' -%}
    {%- do return(profilemesh.drop_index_sql(relation, profilemesh.index_name(relation, step.suffix))) -%}
  {%- elif step.op == 'widen_column' -%}
    {#- Narrowing back fails, and changes nothing, when a value no longer fits. -#}
    {%- do return(profilemesh.widen_column_sql(relation, step.column, 'integer')) -%}
  {%- elif step.op == 'rekey_table' -%}
    {#- Fails, and changes nothing, when rows now differ only in a column the old key lacks. -#}
    {%- do return(profilemesh.rekey_table_sql(relation, step.previous_primary_key, nullable=step.get('not_null', []))) -%}
  {%- endif -%}
  {#- backfill_float: undone by dropping the column it filled. fill_nulls: the values it wrote stay
      (they cannot be told from values written later). -#}
  {%- do return([]) -%}
{% endmacro %}

{% macro index_exists(relation, index_name) %}{{ return(adapter.dispatch('index_exists', 'profilemesh')(relation, index_name)) }}{% endmacro %}
{% macro default__index_exists(relation, index_name) %}
  {%- do profilemesh.require_supported_adapter('index_exists') -%}
  {%- set found = run_query('SELECT COUNT(*) FROM pg_indexes WHERE schemaname = ' ~ profilemesh.sql_literal(relation.schema)
      ~ ' AND indexname = ' ~ profilemesh.sql_literal(index_name)) -%}
  {%- do return(found.rows[0][0] | int > 0) -%}
{% endmacro %}

{% macro drop_index_sql(relation, index_name) %}
  {%- if not profilemesh.supports_secondary_indexes() -%}{%- do return([]) -%}{%- endif -%}
  {%- do return(['DROP INDEX IF EXISTS ' ~ adapter.quote(relation.schema) ~ '.' ~ adapter.quote(index_name)]) -%}
{% endmacro %}
