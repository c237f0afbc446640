{#- What the Python side shares with this package, read from here by scripts/gen_contract.py into
    profilemesh/contract.py (a test fails when the two disagree). -#}
{% macro shared_names() %}
  {%- set names = profilemesh.table_names() -%}
  {%- set views = {} -%}
  {%- for node in graph.nodes.values() | sort(attribute='name') if node.resource_type == 'model' and node.package_name == 'profilemesh' -%}
    {%- do views.update({node.name: node.columns.keys() | list}) -%}
  {%- endfor -%}
  {%- do return({
      'package_version': profilemesh.package_version(),
      'ledger_table': names.schema_version,
      'lease_table': names.migration_lock,
      'pg_advisory_lock_class': profilemesh.advisory_lock_class(),
      'storage_tables': ['runs', 'results', 'events', 'table_state', 'alert_deliveries', 'distributions'],
      'default_table_names': names,
      'views': views,
      'drift_event_types': profilemesh.drift_event_types(),
      'severities': profilemesh.severities(),
      'run_statuses': profilemesh.run_statuses(),
      'distribution_kinds': profilemesh.distribution_kinds(),
      'distribution_modes': profilemesh.distribution_modes(),
  }) -%}
{% endmacro %}

{#- Tables -> columns (logical type, nullability) and indexes at a version. The ledger is part of
    every version from 0 on, because the engine creates it before the first migration. -#}
{% macro expected_catalog(migrations, version) %}
  {%- set catalog = {'schema_version': {'columns': {}, 'primary_key': profilemesh.ledger_primary_key(), 'indexes': []}} -%}
  {%- for column in profilemesh.ledger_columns() -%}
    {%- do catalog.schema_version.columns.update({column.name: {'type': column.type, 'nullable': column.get('nullable', true)}}) -%}
  {%- endfor -%}
  {%- for m in migrations[:version] -%}
    {%- for step in m.steps -%}
      {%- if step.op == 'create_table' -%}
        {%- set columns = {} -%}
        {%- for column in step.columns -%}
          {%- do columns.update({column.name: {'type': column.type, 'nullable': column.get('nullable', true)}}) -%}
        {%- endfor -%}
        {%- do catalog.update({step.table: {'columns': columns, 'primary_key': step.get('primary_key', []), 'indexes': []}}) -%}
      {%- elif step.op == 'add_column' -%}
        {%- do catalog[step.table].columns.update({step.column.name: {'type': step.column.type, 'nullable': step.column.get('nullable', true)}}) -%}
      {%- elif step.op == 'widen_column' -%}
        {%- do catalog[step.table].columns[step.column].update({'type': step.type}) -%}
      {%- elif step.op == 'rekey_table' -%}
        {%- do catalog[step.table].update({'primary_key': step.primary_key}) -%}
        {%- for name in step.get('not_null', []) -%}
          {%- do catalog[step.table].columns[name].update({'nullable': false}) -%}
        {%- endfor -%}
      {%- elif step.op == 'create_index' and profilemesh.supports_secondary_indexes() -%}
        {%- do catalog[step.table].indexes.append({'name': profilemesh.index_name(profilemesh.step_relation(step), step.suffix), 'columns': step.columns}) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- do return(catalog) -%}
{% endmacro %}
