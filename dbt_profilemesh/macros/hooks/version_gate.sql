{#- on-run-start: fail `dbt run` early when the storage schema is not at the version this package
    needs, instead of a raw "column does not exist" later. It checks only when the selection touches
    ProfileMesh: a ProfileMesh model, or a model reading a ProfileMesh source. Switch it off with
    vars: {profilemesh_version_check: false}. -#}
{% macro check_storage_version() %}
  {%- if not execute or not var('profilemesh_version_check', true) -%}{{ return('') }}{%- endif -%}
  {%- if not profilemesh.selection_uses_storage() -%}{{ return('') }}{%- endif -%}
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
