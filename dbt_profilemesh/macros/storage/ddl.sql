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
  {%- do profilemesh.require_supported_adapter('widen_column_sql') -%}
  {%- do return(['ALTER TABLE ' ~ relation ~ ' ALTER COLUMN ' ~ profilemesh.quote_column(name) ~ ' TYPE '
      ~ profilemesh.render_type(logical_type)]) -%}
{% endmacro %}
{% macro snowflake__widen_column_sql(relation, name, logical_type) %}{{ return([]) }}{% endmacro %}
{#- DuckDB cannot change the type of a key column (results.id): that table is rebuilt. -#}
{% macro duckdb__widen_column_sql(relation, name, logical_type) %}
  {%- set key = profilemesh.primary_key_columns(relation) -%}
  {%- if name | lower not in key -%}{{ return(profilemesh.default__widen_column_sql(relation, name, logical_type)) }}{%- endif -%}
  {%- do return(profilemesh.rebuild_table_sql(relation, key, retype={name: profilemesh.render_type(logical_type)})) -%}
{% endmacro %}

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
{% macro default__supports_secondary_indexes() %}{%- do profilemesh.require_supported_adapter('supports_secondary_indexes') -%}{{ return(true) }}{% endmacro %}
{#- Snowflake standard tables have no CREATE INDEX (micro-partition pruning instead). -#}
{% macro snowflake__supports_secondary_indexes() %}{{ return(false) }}{% endmacro %}
{#- DuckDB prunes with zone maps; ART indexes must fit in memory and make older DuckDB versions refuse
    ALTER TABLE on the indexed table, which would block later migrations. -#}
{% macro duckdb__supports_secondary_indexes() %}{{ return(false) }}{% endmacro %}

{% macro identity_prerequisites(relation, columns) %}
  {{- return(adapter.dispatch('identity_prerequisites', 'profilemesh')(relation, columns)) -}}
{% endmacro %}
{% macro default__identity_prerequisites(relation, columns) %}{%- do profilemesh.require_supported_adapter('identity_prerequisites') -%}{{ return([]) }}{% endmacro %}
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
{% macro default__default_utc_now() %}{%- do profilemesh.require_supported_adapter('default_utc_now') -%}{{ return("(now() at time zone 'utc')") }}{% endmacro %}
{% macro duckdb__default_utc_now() %}{{ return("(get_current_timestamp() at time zone 'UTC')") }}{% endmacro %}
{% macro snowflake__default_utc_now() %}{{ return('sysdate()') }}{% endmacro %}

{#- Text -> float that yields NULL for anything that is not a finite number, never an error. -#}
{% macro safe_cast_float(expression) %}{{ return(adapter.dispatch('safe_cast_float', 'profilemesh')(expression)) }}{% endmacro %}
{#- PostgreSQL has no TRY_CAST: a regex admits plain decimal/scientific numbers; at most 250 digits
    before and after the point and 3 in the exponent keep the cast itself from overflowing. NaN/Infinity
    text stays NULL. The digit caps are checked apart, and only on text long enough to break them:
    written into the regex as {1,250} they made it ~20x slower (10M rows: minutes; benchmarks/migrations.py). -#}
{% macro default__safe_cast_float(expression) %}
  {%- do profilemesh.require_supported_adapter('safe_cast_float') -%}
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

{#- NULLs of a column filled, set-based and restartable (only rows still NULL are touched): with `value`,
    or with `lookup` ({table, column, on: {this column: that column}}) from the matching row of another
    storage table, where there is one. -#}
{% macro fill_nulls_sql(relation, name, value=none, lookup=none) %}
  {%- set col = profilemesh.quote_column(name) -%}
  {%- if lookup is none -%}
    {%- do return(['UPDATE ' ~ relation ~ ' AS t SET ' ~ col ~ ' = ' ~ profilemesh.sql_literal(value) ~ ' WHERE t.' ~ col ~ ' IS NULL']) -%}
  {%- endif -%}
  {%- set source = profilemesh.storage_relation(lookup.table) -%}
  {%- do return(['UPDATE ' ~ relation ~ ' AS t SET ' ~ col ~ ' = (SELECT s.' ~ profilemesh.quote_column(lookup.column)
      ~ ' FROM ' ~ source ~ ' s WHERE ' ~ profilemesh.fill_lookup_match(lookup) ~ ') WHERE ' ~ profilemesh.fill_pending_where(relation, name, lookup)]) -%}
{% endmacro %}

{#- The rows a fill still has to touch; the filled table is `t`. -#}
{% macro fill_pending_where(relation, name, lookup=none) %}
  {%- set pending = 't.' ~ profilemesh.quote_column(name) ~ ' IS NULL' -%}
  {%- if lookup is none -%}{%- do return(pending) -%}{%- endif -%}
  {%- do return(pending ~ ' AND EXISTS (SELECT 1 FROM ' ~ profilemesh.storage_relation(lookup.table) ~ ' s WHERE '
      ~ profilemesh.fill_lookup_match(lookup) ~ ' AND s.' ~ profilemesh.quote_column(lookup.column) ~ ' IS NOT NULL)') -%}
{% endmacro %}

{% macro fill_lookup_match(lookup) %}
  {%- set conditions = [] -%}
  {%- for here, there in lookup.on.items() -%}
    {%- do conditions.append('s.' ~ profilemesh.quote_column(there) ~ ' = t.' ~ profilemesh.quote_column(here)) -%}
  {%- endfor -%}
  {%- do return(conditions | join(' AND ')) -%}
{% endmacro %}

{#- A table's primary key replaced by another, with the columns in `not_null` made NOT NULL and those in
    `nullable` made nullable again (a key column is NOT NULL; the undo of a rekey gives that back). -#}
{% macro rekey_table_sql(relation, primary_key, not_null=[], nullable=[]) %}
  {{- return(adapter.dispatch('rekey_table_sql', 'profilemesh')(relation, primary_key, not_null, nullable)) -}}
{% endmacro %}
{#- PostgreSQL changes a key in place (under the step's transaction). Dropping a key leaves its columns
    NOT NULL, hence the explicit DROP NOT NULL. -#}
{% macro default__rekey_table_sql(relation, primary_key, not_null, nullable) %}
  {%- do profilemesh.require_supported_adapter('rekey_table_sql') -%}
  {%- set statements = [] -%}
  {%- for name in not_null -%}
    {%- do statements.append('ALTER TABLE ' ~ relation ~ ' ALTER COLUMN ' ~ profilemesh.quote_column(name) ~ ' SET NOT NULL') -%}
  {%- endfor -%}
  {%- set found = run_query("SELECT conname FROM pg_constraint WHERE contype = 'p' AND conrelid = to_regclass("
      ~ profilemesh.sql_literal(adapter.quote(relation.schema) ~ '.' ~ adapter.quote(relation.identifier)) ~ ')') -%}
  {%- for row in found.rows -%}
    {%- do statements.append('ALTER TABLE ' ~ relation ~ ' DROP CONSTRAINT ' ~ adapter.quote(row[0])) -%}
  {%- endfor -%}
  {%- do statements.append('ALTER TABLE ' ~ relation ~ ' ADD ' ~ profilemesh.primary_key_clause(primary_key)) -%}
  {%- for name in nullable -%}
    {%- do statements.append('ALTER TABLE ' ~ relation ~ ' ALTER COLUMN ' ~ profilemesh.quote_column(name) ~ ' DROP NOT NULL') -%}
  {%- endfor -%}
  {%- do return(statements) -%}
{% endmacro %}
{#- DuckDB cannot drop a key and Snowflake (and its emulator) cannot change one: the table is rebuilt. -#}
{% macro duckdb__rekey_table_sql(relation, primary_key, not_null, nullable) %}
  {{- return(profilemesh.rebuild_table_sql(relation, primary_key, not_null, nullable)) -}}
{% endmacro %}
{% macro snowflake__rekey_table_sql(relation, primary_key, not_null, nullable) %}
  {{- return(profilemesh.rebuild_table_sql(relation, primary_key, not_null, nullable)) -}}
{% endmacro %}

{#- A copy of the table takes its place, keyed by primary_key, with the columns in `retype` ({name: SQL
    type}) changed. The copy keeps the columns and their order (CREATE TABLE AS) and gets back the
    column defaults (an identity's nextval) and NOT NULLs the table had. On DuckDB the statements share
    the step's transaction; Snowflake commits each, and `repair` first finishes a rebuild that stopped
    between dropping the table and renaming its copy (finish_interrupted_rebuilds). Secondary indexes
    are not copied: ProfileMesh creates none on DuckDB or Snowflake. -#}
{% macro rebuild_table_sql(relation, primary_key, not_null=[], nullable=[], retype={}) %}
  {%- set copy = profilemesh.rebuild_copy(relation) -%}
  {%- set statements = ['DROP TABLE IF EXISTS ' ~ copy, 'CREATE TABLE ' ~ copy ~ ' AS SELECT * FROM ' ~ relation] -%}
  {%- for name, sql_type in retype.items() -%}
    {%- do statements.append('ALTER TABLE ' ~ copy ~ ' ALTER COLUMN ' ~ profilemesh.quote_column(name) ~ ' SET DATA TYPE ' ~ sql_type) -%}
  {%- endfor -%}
  {%- for name, expression in profilemesh.column_defaults(relation).items() -%}
    {%- do statements.append('ALTER TABLE ' ~ copy ~ ' ALTER COLUMN ' ~ profilemesh.quote_column(name) ~ ' SET DEFAULT ' ~ expression) -%}
  {%- endfor -%}
  {%- set nullable_lower = nullable | map('lower') | list -%}
  {%- set keep = [] -%}
  {%- for name in profilemesh.not_null_columns(relation) + not_null | map('lower') | list
      if name not in nullable_lower and name not in keep -%}
    {%- do keep.append(name) -%}
    {%- do statements.append('ALTER TABLE ' ~ copy ~ ' ALTER COLUMN ' ~ profilemesh.quote_column(name) ~ ' SET NOT NULL') -%}
  {%- endfor -%}
  {%- do statements.append('ALTER TABLE ' ~ copy ~ ' ADD ' ~ profilemesh.primary_key_clause(primary_key)) -%}
  {%- do statements.append('DROP TABLE ' ~ relation) -%}
  {%- do statements.append(profilemesh.rename_table_sql(copy, relation)) -%}
  {%- do return(statements) -%}
{% endmacro %}

{% macro rebuild_copy(relation) %}
  {%- do return(api.Relation.create(database=relation.database, schema=relation.schema,
                                    identifier=relation.identifier ~ '__rekey')) -%}
{% endmacro %}

{#- A storage table that is missing while its rebuilt copy exists: the rebuild stopped after dropping the
    table (only possible where DDL commits statement by statement, Snowflake). Renaming the copy finishes
    it; every row is in the copy. -#}
{% macro finish_interrupted_rebuilds(ctx) %}
  {%- for key in profilemesh.table_names() -%}
    {%- set relation = profilemesh.storage_relation(key) -%}
    {%- set copy = profilemesh.rebuild_copy(relation) -%}
    {%- if not profilemesh.existing_columns(relation) and profilemesh.existing_columns(copy) -%}
      {%- do profilemesh.say('finishing the rebuild of ' ~ relation.identifier ~ ': its copy takes its place') -%}
      {%- do profilemesh.run_sql(ctx, profilemesh.rename_table_sql(copy, relation)) -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}

{% macro primary_key_clause(columns) %}
  {%- set cols = [] -%}
  {%- for name in columns -%}{%- do cols.append(profilemesh.quote_column(name)) -%}{%- endfor -%}
  {%- do return('PRIMARY KEY (' ~ cols | join(', ') ~ ')') -%}
{% endmacro %}

{#- DuckDB takes a bare new name (the table stays in its schema); Snowflake resolves a bare name in the
    session's schema, so it gets the qualified one. -#}
{% macro rename_table_sql(relation, new_relation) %}
  {{- return(adapter.dispatch('rename_table_sql', 'profilemesh')(relation, new_relation)) -}}
{% endmacro %}
{% macro default__rename_table_sql(relation, new_relation) %}
  {%- do profilemesh.require_supported_adapter('rename_table_sql') -%}
  {{- return('ALTER TABLE ' ~ relation ~ ' RENAME TO ' ~ adapter.quote(new_relation.identifier)) -}}
{% endmacro %}
{% macro snowflake__rename_table_sql(relation, new_relation) %}
  {{- return('ALTER TABLE ' ~ relation ~ ' RENAME TO ' ~ new_relation) -}}
{% endmacro %}

{#- {lower-cased column name: its default expression as the catalog holds it}, for columns with one. -#}
{% macro column_defaults(relation) %}
  {%- set result = profilemesh.catalog_columns(relation, 'column_name, column_default', 'column_default IS NOT NULL') -%}
  {%- set defaults = {} -%}
  {%- for row in result.rows -%}{%- do defaults.update({row[0] | lower: row[1]}) -%}{%- endfor -%}
  {%- do return(defaults) -%}
{% endmacro %}

{#- Lower-cased names of a table's NOT NULL columns, in column order. -#}
{% macro not_null_columns(relation) %}
  {%- set result = profilemesh.catalog_columns(relation, 'column_name', "is_nullable = 'NO'") -%}
  {%- do return(result.rows | map(attribute=0) | map('lower') | list) -%}
{% endmacro %}

{#- Lower-cased names of a table's primary key columns; empty when it has none (or does not exist). -#}
{% macro primary_key_columns(relation) %}
  {{- return(adapter.dispatch('primary_key_columns', 'profilemesh')(relation)) -}}
{% endmacro %}
{% macro default__primary_key_columns(relation) %}
  {%- do profilemesh.require_supported_adapter('primary_key_columns') -%}
  {%- set result = run_query('SELECT k.column_name FROM ' ~ profilemesh.key_columns_view(relation) ~ ' k JOIN '
      ~ profilemesh.table_constraints_view(relation) ~ ' t ON t.constraint_name = k.constraint_name'
      ~ ' AND t.table_schema = k.table_schema AND t.table_name = k.table_name'
      ~ " WHERE t.constraint_type = 'PRIMARY KEY'"
      ~ ' AND t.table_schema = ' ~ profilemesh.sql_literal(relation.schema)
      ~ ' AND t.table_name = ' ~ profilemesh.sql_literal(relation.identifier)
      ~ ' AND t.table_catalog = ' ~ profilemesh.sql_literal(relation.database)
      ~ ' ORDER BY k.ordinal_position') -%}
  {%- do return(result.rows | map(attribute=0) | map('lower') | list) -%}
{% endmacro %}
{#- Snowflake's information_schema has no key_column_usage. -#}
{% macro snowflake__primary_key_columns(relation) %}
  {%- if not profilemesh.existing_columns(relation) -%}{%- do return([]) -%}{%- endif -%}
  {%- set result = run_query('SHOW PRIMARY KEYS IN TABLE ' ~ relation) -%}
  {%- set names = [] -%}
  {%- for row in result.rows -%}{%- do names.append(row['column_name'] | lower) -%}{%- endfor -%}
  {%- do return(names) -%}
{% endmacro %}

{% macro key_columns_view(relation) %}{{ return(profilemesh.catalog_view(relation, 'key_column_usage')) }}{% endmacro %}
{% macro table_constraints_view(relation) %}{{ return(profilemesh.catalog_view(relation, 'table_constraints')) }}{% endmacro %}
{% macro catalog_view(relation, name) %}{{ return(adapter.dispatch('catalog_view', 'profilemesh')(relation, name)) }}{% endmacro %}
{% macro default__catalog_view(relation, name) %}{%- do profilemesh.require_supported_adapter('catalog_view') -%}{{ return(relation.information_schema(name)) }}{% endmacro %}
{% macro duckdb__catalog_view(relation, name) %}{{ return('information_schema.' ~ name) }}{% endmacro %}
