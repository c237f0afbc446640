{#- Results go back to the CLI as JSON between sentinels in a debug-level log event, read through a
    dbtRunner callback (run-operation discards return values). People running the operation with
    dbt directly see the info-level lines instead. -#}

{% macro emit(kind, payload) %}
  {%- do log('<<profilemesh:' ~ kind ~ '>>' ~ tojson(payload) ~ '<</profilemesh>>', info=false) -%}
{% endmacro %}

{% macro say(message) %}
  {%- do log('ProfileMesh: ' ~ message, info=true) -%}
{% endmacro %}

{% macro fail(message) %}
  {%- do exceptions.raise_compiler_error('ProfileMesh: ' ~ message) -%}
{% endmacro %}
