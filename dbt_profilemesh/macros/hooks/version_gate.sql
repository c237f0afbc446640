{#- on-run-start: fail `dbt run` early when the storage schema is not at the version this package
    needs, instead of a raw "column does not exist" later. Only when a ProfileMesh node is selected,
    and never with vars: {profilemesh_version_check: false}. -#}
{% macro check_storage_version() %}
  {%- if not execute or not var('profilemesh_version_check', true) -%}{{ return('') }}{%- endif -%}
  {%- set ns = {'selected': false} -%}
  {%- for unique_id in selected_resources if unique_id.split('.')[1] == 'profilemesh' -%}
    {%- do ns.update({'selected': true}) -%}
  {%- endfor -%}
  {%- if not ns.selected -%}{{ return('') }}{%- endif -%}
  {%- set needed = profilemesh.load_migrations() | length -%}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- set ledger_exists = profilemesh.existing_columns(relation) | length > 0 -%}
  {%- set current = profilemesh.ledger_state(profilemesh.read_attempts(ledger_exists)).current -%}
  {%- if current != needed -%}
    {%- do profilemesh.fail('storage is at version ' ~ current ~ ', this package needs ' ~ needed
        ~ (': run `profilemesh migrate apply`' if current < needed else ': upgrade the profilemesh package')
        ~ ' (or set vars: {profilemesh_version_check: false} to skip this check)') -%}
  {%- endif -%}
  {{- return('') -}}
{% endmacro %}
