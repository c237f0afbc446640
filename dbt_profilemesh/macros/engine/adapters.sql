{#- The adapters this package's SQL is written for and tested on. Every `default__` variant in this
    package is the PostgreSQL / DuckDB SQL (the other adapters' differences are `<adapter>__`
    variants), so on an adapter not listed here it refuses with one clear message instead of running
    SQL nobody has tested there. Supporting a new adapter: add its `target.type` here, and write its
    `<adapter>__` variants wherever its SQL differs (the migration lock has no default at all: each
    adapter names its own). -#}
{% macro supported_adapters() %}
  {{- return(['postgres', 'duckdb', 'snowflake', 'sqlite']) -}}
{% endmacro %}

{#- The refusal, raised by a `default__` variant (`macro_name`) on an adapter outside `supported`. -#}
{% macro require_supported_adapter(macro_name, supported=none, adapter_type=none) %}
  {%- set adapter_type = adapter_type or target.type -%}
  {%- set supported = profilemesh.supported_adapters() if supported is none else supported -%}
  {%- if adapter_type not in supported -%}
    {%- do exceptions.raise_compiler_error(profilemesh.unsupported_adapter_message(macro_name, adapter_type)) -%}
  {%- endif -%}
{% endmacro %}

{% macro unsupported_adapter_message(macro_name, adapter_type) %}
  {{- return('ProfileMesh does not support the ' ~ adapter_type ~ ' adapter (profilemesh.' ~ macro_name
      ~ ' has no ' ~ adapter_type ~ '__ variant; supported: ' ~ profilemesh.supported_adapters() | join(', ')
      ~ '). See docs/guides/DBT.md, "Adapters".') -}}
{% endmacro %}
