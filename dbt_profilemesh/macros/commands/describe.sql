{#- dbt run-operation profilemesh_describe --args '{version: 2}'
    The code's view of the schema: every migration with its checksum, the storage relations, and the
    catalog expected at a version, folded from the migrations' steps (the single source of truth). -#}
{% macro profilemesh_describe(version=none) %}
  {%- set migrations = profilemesh.load_migrations() -%}
  {%- set v = (migrations | length) if version is none else version | int -%}
  {%- set described = [] -%}
  {%- for m in migrations -%}
    {%- do described.append({'version': m.version, 'description': m.description, 'script': m.script,
        'checksum': m.checksum, 'steps': m.steps | map(attribute='id') | list}) -%}
  {%- endfor -%}
  {%- set relations = {} -%}
  {%- for key in profilemesh.table_names() -%}
    {%- set r = profilemesh.storage_relation(key) -%}
    {%- do relations.update({key: {'database': r.database, 'schema': r.schema, 'identifier': r.identifier}}) -%}
  {%- endfor -%}
  {%- do profilemesh.emit('result', {'operation': 'describe', 'head': migrations | length, 'migrations': described,
      'relations': relations, 'catalog_version': v, 'catalog': profilemesh.expected_catalog(migrations, v),
      'dialect': target.type, 'package_version': profilemesh.package_version(),
      'contract': profilemesh.shared_names()}) -%}
{% endmacro %}
