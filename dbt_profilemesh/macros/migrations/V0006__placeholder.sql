{#- PLACEHOLDER, not for merge: version 6 belongs to another branch (issue 16). It exists only so this
    branch's version 7 can be applied here (migrations are numbered without gaps). The integrator drops
    this file and keeps the other branch's V0006. -#}
{% macro profilemesh_migration_0006() %}
  {%- do return({'version': 6, 'description': 'Placeholder for the other branch of version 6', 'steps': []}) -%}
{% endmacro %}
