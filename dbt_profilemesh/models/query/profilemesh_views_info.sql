{#- Which storage schema version (and package) the views were built for: the CLI reads the views only
    when schema_version matches the store's version, and `migrate apply` at head rebuilds them only
    when package_fingerprint differs from the installed package's (empty when built by a plain
    `dbt run`, which the next apply then rebuilds once). Only a hex digest is ever rendered. -#}
{%- set fingerprint = env_var("PROFILEMESH_PACKAGE_FINGERPRINT", "") | string -%}
{%- if not modules.re.fullmatch("[0-9a-f]{0,64}", fingerprint) -%}{%- set fingerprint = "" -%}{%- endif -%}
select
    cast({{ profilemesh.views_schema_version() }} as integer) as schema_version,
    cast('{{ profilemesh.package_version() }}' as varchar(50)) as package_version,
    cast('{{ fingerprint }}' as varchar(64)) as package_fingerprint
