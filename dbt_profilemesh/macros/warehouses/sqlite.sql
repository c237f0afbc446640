{#- SQLite (dbt-sqlite, the `sqlite` extra): every dispatched difference in one file, so the package's
    generic macros keep their PostgreSQL, DuckDB and Snowflake forms untouched. What SQLite lacks and
    what ProfileMesh does instead: docs/guides/WAREHOUSES.md ("SQLite").

    A file has one schema, `main`, and no information_schema: the catalog is read from
    pragma_table_info. A migration operation is one transaction, begun with a write (SQLite's file write
    lock, which it grants to one connection at a time) and committed when the lock is released; the
    engine's per-migration commits are part of it (see sqlite__acquire_migration_lock). -#}

{#- --- the migration lock and transactions -------------------------------------------------------- -#}

{#- dbt-sqlite tracks its own transaction (it sends BEGIN before some of its catalog queries): the engine
    joins that one rather than sending a second BEGIN, which SQLite refuses. The first write takes the
    file's write lock; another connection that holds it makes this one wait (dbt-sqlite's busy timeout,
    5 s) and then fail with "database is locked", which the CLI retries until --lock-timeout. The lease
    table (Snowflake's) names the holder inside the transaction; it is emptied before the commit. -#}
{% macro sqlite__acquire_migration_lock(ctx, lock_timeout) %}
  {%- if ctx.dry_run -%}{%- do return(none) -%}{%- endif -%}
  {%- do profilemesh.sqlite__begin_transaction() -%}
  {%- set lock = profilemesh.storage_relation('migration_lock') -%}
  {%- do run_query('CREATE TABLE IF NOT EXISTS ' ~ lock ~ ' (lock_name VARCHAR(100), holder VARCHAR(255), '
      ~ 'token VARCHAR(64), acquired_at TIMESTAMP, expires_at TIMESTAMP, heartbeat_at TIMESTAMP)') -%}
  {%- do run_query('INSERT INTO ' ~ lock ~ " (lock_name, holder, token, acquired_at) VALUES ('migrate', "
      ~ profilemesh.sql_literal(ctx.applied_by[:255]) ~ ', ' ~ profilemesh.sql_literal(invocation_id) ~ ', '
      ~ profilemesh.utc_timestamp_literal(profilemesh.utc_now()) ~ ')') -%}
  {%- do ctx.update({'sqlite_lock_held': true}) -%}
{% endmacro %}

{% macro sqlite__release_migration_lock(ctx) %}
  {%- if not ctx.get('sqlite_lock_held') -%}{%- do return(none) -%}{%- endif -%}
  {#- Only the migration's row: the table also holds the run leases of other commands (`alert`). -#}
  {%- do run_query('DELETE FROM ' ~ profilemesh.storage_relation('migration_lock') ~ " WHERE lock_name = 'migrate'") -%}
  {%- do adapter.commit() -%}
  {%- do ctx.update({'sqlite_lock_held': false}) -%}
{% endmacro %}

{% macro sqlite__renew_migration_lock(ctx) %}{{ return(none) }}{% endmacro %}

{% macro sqlite__begin_transaction() %}{%- do adapter.execute('SELECT 1', auto_begin=true) -%}{% endmacro %}
{#- The operation's one transaction ends when the migration lock is released. -#}
{% macro sqlite__commit_transaction() %}{{ return(none) }}{% endmacro %}
{% macro sqlite__transactional_ddl() %}{{ return(true) }}{% endmacro %}

{#- --- names, literals, the catalog -------------------------------------------------------------- -#}

{#- `main` always exists (it is the file); CREATE SCHEMA is not SQLite. -#}
{% macro sqlite__schema_reference(relation) %}{{ return(relation.without_identifier().include(database=false)) }}{% endmacro %}
{% macro sqlite__escape_string_body(text) %}{{ return(profilemesh.default__escape_string_body(text)) }}{% endmacro %}
{% macro sqlite__quote_column(name) %}{{ return(profilemesh.default__quote_column(name)) }}{% endmacro %}
{% macro sqlite__catalog_identifier(name) %}{{ return(name) }}{% endmacro %}

{#- information_schema.columns' shape, from pragma_table_info (SQLite keeps a column's type as declared). -#}
{% macro sqlite__columns_view(relation) %}
  {%- set name = profilemesh.sql_literal(relation.identifier) -%}
  {{- return("(SELECT 'main' AS table_schema, " ~ name ~ ' AS table_name, name AS column_name, lower(type) AS data_type, '
      ~ "dflt_value AS column_default, CASE WHEN \"notnull\" = 1 OR (pk = 1 AND upper(type) = 'INTEGER') THEN 'NO' "
      ~ "ELSE 'YES' END AS is_nullable, cid + 1 AS ordinal_position FROM pragma_table_info(" ~ name ~ ", 'main')) c WHERE 1 = 1") -}}
{% endmacro %}

{% macro sqlite__primary_key_columns(relation) %}
  {%- set result = run_query('SELECT name FROM pragma_table_info(' ~ profilemesh.sql_literal(relation.identifier)
      ~ ", 'main') WHERE pk > 0 ORDER BY pk") -%}
  {%- do return(result.rows | map(attribute=0) | map('lower') | list) -%}
{% endmacro %}

{% macro sqlite__catalog_view(relation, name) %}
  {%- do profilemesh.fail('SQLite has no information_schema.' ~ name) -%}
{% endmacro %}

{#- --- types and DDL -------------------------------------------------------------------------------- -#}

{#- Naive UTC as text, 'YYYY-MM-DD HH:MM:SS.ffffff' (what SQLAlchemy writes and reads back). The
    declared type only names it: CAST(... AS TIMESTAMP) would turn the text into a number, so
    timestamp literals are bare strings here (sqlite__utc_timestamp_literal). -#}
{% macro sqlite__type_timestamp() %}{{ return('TIMESTAMP') }}{% endmacro %}
{% macro sqlite__type_json() %}{{ return('TEXT') }}{% endmacro %}
{#- SQLite's floating point type is 8 bytes. -#}
{% macro sqlite__type_float() %}{{ return('REAL') }}{% endmacro %}
{#- An INTEGER primary key is SQLite's rowid: it numbers new rows itself, and is 64-bit already. -#}
{% macro sqlite__type_identity(relation) %}{{ return('INTEGER') }}{% endmacro %}
{% macro sqlite__identity_prerequisites(relation, columns) %}{{ return([]) }}{% endmacro %}
{#- SQLite integers are all 64-bit: there is nothing to widen (and retyping the rowid key would end it). -#}
{% macro sqlite__widen_column_sql(relation, name, logical_type) %}{{ return([]) }}{% endmacro %}
{#- CREATE INDEX takes an unqualified table name in SQLite, which the package's DDL qualifies: no
    secondary indexes on SQLite (the store's reads filter on the tables' keys). -#}
{% macro sqlite__supports_secondary_indexes() %}{{ return(false) }}{% endmacro %}
{% macro sqlite__default_utc_now() %}{{ return("(strftime('%Y-%m-%d %H:%M:%f', 'now'))") }}{% endmacro %}
{% macro sqlite__rename_table_sql(relation, new_relation) %}
  {{- return('ALTER TABLE ' ~ relation ~ ' RENAME TO ' ~ adapter.quote(new_relation.identifier)) -}}
{% endmacro %}

{#- Text -> float, NULL for anything that is not a number. SQLite casts any text to a number without an
    error ('12abc' -> 12), so the text must hold only a number's characters and start like one. -#}
{% macro sqlite__safe_cast_float(expression) %}
  {%- set text = 'trim(' ~ expression ~ ')' -%}
  {%- do return("case when " ~ text ~ " <> '' and " ~ text ~ " not glob '*[^0-9.eE+-]*' and " ~ text
      ~ " glob '*[0-9]*' and (" ~ text ~ " glob '[0-9]*' or " ~ text ~ " glob '[-+.][0-9]*' or " ~ text
      ~ " glob '[-+].[0-9]*') then cast(" ~ text ~ " as real) end") -%}
{% endmacro %}

{#- SQLite cannot change a table's key or a column's nullability in place: a new table with the changed
    definition takes the old one's place (SQLite's documented procedure: create, copy, drop, rename), in
    the migration's transaction. Columns keep their order, types and defaults. -#}
{% macro sqlite__rekey_table_sql(relation, primary_key, not_null, nullable) %}
  {%- set copy = profilemesh.rebuild_copy(relation) -%}
  {%- set columns = run_query('SELECT name, type, "notnull", dflt_value FROM pragma_table_info('
      ~ profilemesh.sql_literal(relation.identifier) ~ ", 'main') ORDER BY cid") -%}
  {%- set not_null_lower = not_null | map('lower') | list -%}
  {%- set nullable_lower = nullable | map('lower') | list -%}
  {%- set defs = [] -%}
  {%- for row in columns.rows -%}
    {%- set parts = [profilemesh.quote_column(row[0]), row[1]] -%}
    {%- if row[3] is not none -%}{%- do parts.append('DEFAULT ' ~ row[3]) -%}{%- endif -%}
    {%- if (row[2] | int == 1 or row[0] | lower in not_null_lower) and row[0] | lower not in nullable_lower -%}
      {%- do parts.append('NOT NULL') -%}
    {%- endif -%}
    {%- do defs.append(parts | join(' ')) -%}
  {%- endfor -%}
  {%- do defs.append(profilemesh.primary_key_clause(primary_key)) -%}
  {%- do return(['DROP TABLE IF EXISTS ' ~ copy, 'CREATE TABLE ' ~ copy ~ ' (' ~ defs | join(', ') ~ ')',
                 'INSERT INTO ' ~ copy ~ ' SELECT * FROM ' ~ relation, 'DROP TABLE ' ~ relation,
                 profilemesh.rename_table_sql(copy, relation)]) -%}
{% endmacro %}

{% macro sqlite__index_exists(relation, index_name) %}
  {%- set found = run_query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = " ~ profilemesh.sql_literal(index_name)) -%}
  {%- do return(found.rows[0][0] | int > 0) -%}
{% endmacro %}

{#- --- access --------------------------------------------------------------------------------------- -#}

{#- A file has no roles: who may read it is the file's permissions. -#}
{% macro sqlite__grant_read_sql(database, schema, role) %}
  {%- do profilemesh.fail('SQLite has no roles: who may read the store is who may read its file', 'usage') -%}
{% endmacro %}
{% macro sqlite__json_as_text(column) %}{{ return(profilemesh.default__json_as_text(column)) }}{% endmacro %}
{% macro sqlite__storage_access_problem() %}{{ return(none) }}{% endmacro %}

{#- A bare string: SQLite's CAST(... AS TIMESTAMP) is a numeric cast ('2026-01-02 ...' -> 2026). The text
    form sorts and compares as the time it names. -#}
{% macro sqlite__utc_timestamp_literal(dt) %}{{ return(profilemesh.sql_literal(dt.strftime('%Y-%m-%d %H:%M:%S.%f'))) }}{% endmacro %}

{#- --- retention ------------------------------------------------------------------------------------ -#}

{#- SQLite names no columns of a VALUES list in FROM (`as pm_batch (a, b, c)`): a row-value IN instead. -#}
{% macro sqlite__retention_pairs_condition(pairs, table_column) %}
  {%- set c = profilemesh.retention_columns() -%}
  {%- set values = [] -%}
  {%- for pair in pairs -%}
    {%- do values.append('(' ~ profilemesh.sql_literal(pair.run_id) ~ ', ' ~ profilemesh.sql_literal(pair.schema_name) ~ ', '
        ~ profilemesh.sql_literal(pair.dataset_name) ~ ')') -%}
  {%- endfor -%}
  {%- do return('((' ~ c.run_id ~ ', ' ~ c.schema_name ~ ', ' ~ c[table_column] ~ ') in (values ' ~ values | join(', ') ~ '))') -%}
{% endmacro %}
