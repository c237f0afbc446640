{#- Results go back to the CLI as JSON between sentinels in a debug-level log event, read through a
    dbtRunner callback (run-operation discards return values). People running the operation with
    dbt directly see the info-level lines instead. -#}

{% macro emit(kind, payload) %}
  {%- do log('<<profilemesh:' ~ kind ~ '>>' ~ tojson(payload) ~ '<</profilemesh>>', info=false) -%}
{% endmacro %}

{% macro say(message) %}
  {%- do log('ProfileMesh: ' ~ message, info=true) -%}
{% endmacro %}

{#- kind: 'refused' (the store's state forbids it: exit 1), 'busy' (lock held: exit 3), 'lease_held'
    (the Snowflake lease is held: exit 3 once the CLI has retried until its lock timeout),
    'missing' (no store: exit 3), 'usage' (bad arguments: exit 2). The CLI reads the kind from the
    emitted event (profilemesh/dbt/outcomes.py). -#}
{#- With ctx, a lease this operation holds (Snowflake) is handed back first: a refusal must not leave
    the store locked until the lease expires. -#}
{% macro fail(message, kind='refused', ctx=none) %}
  {%- if ctx is not none and ctx.get('lease_token') -%}{%- do profilemesh.release_migration_lock(ctx) -%}{%- endif -%}
  {%- do profilemesh.emit('error', {'message': message, 'kind': kind}) -%}
  {%- do exceptions.raise_compiler_error('ProfileMesh: ' ~ message) -%}
{% endmacro %}
