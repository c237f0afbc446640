{#- The version gate, a pre-hook of each of the package's models (dbt_project.yml): fail the model
    early when the storage schema is not at the version this package needs (or the role cannot read
    it), instead of a raw "column does not exist" later. Only ProfileMesh's models, and what builds on
    them, fail; the user's other models still build. A user model that reads ProfileMesh's sources
    directly can take the same gate as its own pre-hook (docs/configuration.md, "The dbt side").
    Switch it off with vars: {profilemesh_version_check: false}. -#}
{% macro check_storage_version() %}
  {%- if not execute or not var('profilemesh_version_check', true) -%}{{ return('') }}{%- endif -%}
  {%- set state = profilemesh.read_store_state() -%}
  {%- set refusal = profilemesh.version_refusal_message(state.current, profilemesh.load_migrations() | length) -%}
  {%- if refusal -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh version check: ' ~ refusal
        ~ ' (or set vars: {profilemesh_version_check: false} to skip this check)') -%}
  {%- endif -%}
  {%- if state.unresolved -%}
    {#- Readers go on at this version (as `profilemesh query` does), with the same warning. -#}
    {%- do log('ProfileMesh warning: ' ~ profilemesh.unfinished_attempt_message(state.unresolved[-1]), info=true) -%}
  {%- endif -%}
  {{- return('') -}}
{% endmacro %}
