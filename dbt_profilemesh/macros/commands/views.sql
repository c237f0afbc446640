{#- Drop the query views (this package's models) before a migration changes the tables under them:
    PostgreSQL refuses to drop or retype a column a view reads. `profilemesh migrate apply` rebuilds
    them after migrating; a store behind head is read from its tables meanwhile. -#}
{% macro profilemesh_drop_query_views() %}
  {%- set dropped = [] -%}
  {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == 'profilemesh' -%}
    {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if relation is not none and relation.is_view -%}
      {%- do adapter.drop_relation(relation) -%}
      {%- do dropped.append(node.alias) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- do profilemesh.emit('result', {'dropped': dropped | sort}) -%}
{% endmacro %}
