{#- Where the storage tables live, and their names. One place, so the CLI's config (passed as vars)
    and a dbt user's project resolve exactly the same relations. -#}

{% macro storage_database() %}
  {%- do return(var('profilemesh_database', none) or target.database) -%}
{% endmacro %}

{% macro storage_schema() %}
  {%- do return(var('profilemesh_schema', none) or target.schema) -%}
{% endmacro %}

{#- Logical table key -> physical table name. The ledger's name is fixed on purpose: it is how
    any ProfileMesh version finds out what a store holds. -#}
{% macro table_names() %}
  {%- do return({
      'runs': var('profilemesh_runs_table', 'profilemesh_runs'),
      'results': var('profilemesh_results_table', 'profilemesh_results'),
      'events': var('profilemesh_events_table', 'profilemesh_events'),
      'table_state': var('profilemesh_table_state_table', 'profilemesh_table_state'),
      'schema_version': 'profilemesh_schema_version',
      'migration_lock': 'profilemesh_migration_lock',
  }) -%}
{% endmacro %}

{#- A dbt Relation for a logical table key; rendering it quotes per the adapter's policy. -#}
{% macro storage_relation(key) %}
  {%- set names = profilemesh.table_names() -%}
  {%- if key not in names -%}
    {%- do exceptions.raise_compiler_error("ProfileMesh: unknown storage table key '" ~ key ~ "'") -%}
  {%- endif -%}
  {%- do return(api.Relation.create(
      database=profilemesh.storage_database(),
      schema=profilemesh.storage_schema(),
      identifier=names[key],
      type='table')) -%}
{% endmacro %}
