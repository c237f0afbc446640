{#- on-run-start: fail `dbt run` early when the storage schema is not at the version this package
    needs, instead of a raw "column does not exist" later. It checks only when the selection touches
    ProfileMesh: a ProfileMesh model, or a model reading a ProfileMesh source. Switch it off with
    vars: {profilemesh_version_check: false}. -#}
{% macro check_storage_version() %}
  {%- if not execute or not var('profilemesh_version_check', true) -%}{{ return('') }}{%- endif -%}
  {%- if not profilemesh.selection_uses_storage() -%}{{ return('') }}{%- endif -%}
  {%- set needed = profilemesh.load_migrations() | length -%}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- set ledger_exists = profilemesh.existing_columns(relation) | length > 0 -%}
  {%- set current = profilemesh.ledger_state(profilemesh.read_attempts(ledger_exists)).current -%}
  {%- if current != needed -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh storage is at version ' ~ current ~ ', this package needs ' ~ needed
        ~ (': run `profilemesh migrate apply`' if current < needed else ': upgrade the profilemesh package')
        ~ ' (or set vars: {profilemesh_version_check: false} to skip this check)') -%}
  {%- endif -%}
  {{- return('') -}}
{% endmacro %}

{% macro selection_uses_storage() %}
  {%- for unique_id in selected_resources -%}
    {%- if unique_id.split('.')[1] == 'profilemesh' -%}{{ return(true) }}{%- endif -%}
    {%- set node = graph.nodes.get(unique_id) -%}
    {%- if node -%}
      {%- for parent in node.depends_on.nodes if parent.startswith('source.profilemesh.') -%}{{ return(true) }}{%- endfor -%}
    {%- endif -%}
  {%- endfor -%}
  {{- return(false) -}}
{% endmacro %}
