{#- Migration discovery. A migration is a macro named profilemesh_migration_NNNN in
    macros/migrations/VNNNN__<slug>.sql that returns {version, description, steps}. The files are the
    single source of truth: the engine finds them by name, the CLI by file name. -#}

{% macro package_version() %}{{ return('0.1.0') }}{% endmacro %}

{#- Versioned checksum over the normalised macro source: a CRLF or BOM checkout of an unchanged
    migration keeps its checksum; any other edit changes it. 'pm1' names this algorithm. -#}
{% macro migration_checksum(source) %}
  {%- set text = source.replace('\r\n', '\n').replace('\r', '\n').replace('\ufeff', '') -%}
  {%- do return('pm1:' ~ local_md5(text)) -%}
{% endmacro %}

{% macro load_migrations() %}
  {%- set prefix = 'profilemesh_migration_' -%}
  {%- set names = [] -%}
  {%- for name in profilemesh if name.startswith(prefix) -%}{%- do names.append(name) -%}{%- endfor -%}
  {%- set migrations = [] -%}
  {%- for name in names | sort -%}
    {%- set macro_fn = profilemesh[name] -%}
    {%- set definition = macro_fn() -%}
    {%- set expected = (loop.index) -%}
    {%- if definition.version != expected or name != prefix ~ '%04d' % expected -%}
      {%- do profilemesh.fail("migrations must be numbered 1, 2, 3... without gaps; found " ~ name
          ~ " (version " ~ definition.version ~ ") where version " ~ expected ~ " was expected", 'usage') -%}
    {%- endif -%}
    {%- set step_ids = [] -%}
    {%- for step in definition.steps -%}
      {%- if step.id in step_ids -%}
        {%- do profilemesh.fail("migration " ~ expected ~ " repeats step id " ~ step.id, 'usage') -%}
      {%- endif -%}
      {%- do step_ids.append(step.id) -%}
    {%- endfor -%}
    {%- do migrations.append({
        'version': definition.version,
        'description': definition.description,
        'steps': definition.steps,
        'script': macro_fn.macro.original_file_path,
        'checksum': profilemesh.migration_checksum(macro_fn.macro.macro_sql),
    }) -%}
  {%- endfor -%}
  {%- do return(migrations) -%}
{% endmacro %}
