{#- Version 6: the dbt node each profiled table came from (`profilemesh profile --project-dir`):
    runs.dbt_unique_id holds the node's unique id (`model.shop.orders`, `source.shop.raw.orders`,
    `seed.shop.countries`, `snapshot.shop.orders_snapshot`), NULL for a table named in profilemesh.yml
    or with --table. The query views carry it, and `query runs --dbt-node` filters on it. An index
    serves that filter. See docs/guides/DBT.md and docs/schemas/SCHEMA_REFERENCE.md. -#}
{% macro profilemesh_migration_0006() %}
  {%- do return({
    'version': 6,
    'description': 'The dbt unique id of each profiled table',
    'steps': [
      {'id': 'runs_add_dbt_unique_id', 'op': 'add_column', 'table': 'runs',
       'column': {'name': 'dbt_unique_id', 'type': 'varchar(512)'}},
      {'id': 'index_runs_dbt_unique_id', 'op': 'create_index', 'table': 'runs',
       'suffix': 'dbt_unique_id', 'columns': ['dbt_unique_id']},
    ]
  }) -%}
{% endmacro %}
