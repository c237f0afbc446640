{#- Where the storage tables live, and their names. One place, so the CLI's config (passed as vars)
    and a dbt user's project resolve exactly the same relations. -#}

{% macro storage_database() %}
  {%- do return(var('profilemesh_database', none) or target.database) -%}
{% endmacro %}

{% macro storage_schema() %}
  {%- do return(var('profilemesh_schema', none) or target.schema) -%}
{% endmacro %}

{#- Logical table key -> physical table name. The defaults are also the vars' defaults in
    dbt_project.yml, which the package's own nodes (sources.yml) see; a macro run for a node of the
    user's project (the version gate as a model's pre-hook) sees only that project's vars, so the
    defaults are written here too. The ledger's name is fixed on purpose: it is how any ProfileMesh
    version finds out what a store holds. -#}
{% macro table_names() %}
  {%- do return({
      'runs': var('profilemesh_runs_table', 'profilemesh_runs'),
      'results': var('profilemesh_results_table', 'profilemesh_results'),
      'events': var('profilemesh_events_table', 'profilemesh_events'),
      'table_state': var('profilemesh_table_state_table', 'profilemesh_table_state'),
      'alert_deliveries': var('profilemesh_alert_deliveries_table', 'profilemesh_alert_deliveries'),
      'distributions': var('profilemesh_distributions_table', 'profilemesh_distributions'),
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
  {%- do profilemesh.check_storage_name(profilemesh.storage_schema(), 'profilemesh_schema') -%}
  {%- do profilemesh.check_storage_name(names[key], 'profilemesh_' ~ key ~ '_table') -%}
  {%- do return(api.Relation.create(
      database=profilemesh.storage_database(),
      schema=profilemesh.storage_schema(),
      identifier=names[key],
      type='table')) -%}
{% endmacro %}

{#- dbt puts relation names between quotes without escaping a quote inside them (its adapter macros
    do the same inside string literals), so a quote character in a storage name could end the
    identifier early and run the rest as SQL. The CLI refuses such names in the config
    (profilemesh/names.py); this refuses them when a dbt project sets the vars directly. -#}
{% macro check_storage_name(name, var_name) %}
  {%- if name is none or (name | string) == '' -%}
    {%- do exceptions.raise_compiler_error('ProfileMesh: var ' ~ var_name ~ ' must not be empty') -%}
  {%- endif -%}
  {%- for ch in (name | string) -%}
    {%- if ch in ['"', "'"] or ch | string < ' ' or ch == '\x7f' -%}
      {%- do exceptions.raise_compiler_error('ProfileMesh: var ' ~ var_name ~ ' must not contain quote or control characters') -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}
