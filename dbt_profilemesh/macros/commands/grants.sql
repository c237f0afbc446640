{#- dbt run-operation profilemesh_grant_read --args '{role: bi_reader}'
    Lets a role read the store: the query views, the ledger (which the CLI reads for the version) and the
    storage tables (which `query` reads on a store one version behind), now and, for what the running
    role creates later, in the future. Read only: nothing here lets the role write. `profilemesh migrate
    apply --grant-read ROLE` runs it after the views are built. docs/configuration.md, Permissions. -#}
{% macro profilemesh_grant_read(role=none) %}
  {%- if not role or not (role | string | trim) -%}
    {%- do profilemesh.fail('grant_read needs a role: --args "{role: bi_reader}"', 'usage') -%}
  {%- endif -%}
  {%- set relation = profilemesh.storage_relation('runs') -%}
  {%- set ctx = {'statements': [], 'dry_run': false} -%}
  {%- do profilemesh.begin(ctx) -%}
  {%- for sql in profilemesh.grant_read_sql(relation.database, relation.schema, role | string | trim) -%}
    {%- do profilemesh.run_sql(ctx, sql) -%}
  {%- endfor -%}
  {%- do profilemesh.commit(ctx) -%}
  {%- do profilemesh.say('granted ' ~ role ~ ' read access to ' ~ relation.schema) -%}
  {%- do profilemesh.emit('result', {'operation': 'grant_read', 'role': role | string | trim, 'statements': ctx.statements}) -%}
{% endmacro %}
