{#- Is the store at a version this package can use? The refusals, worded once for the package (the
    on-run-start gate, retention, the migration engine) and worded the same as the CLI's
    (profilemesh/store/state.py; tests/test_store_state.py runs both). -#}

{% macro unfinished_attempt_message(attempt) %}
  {%- do return('attempt ' ~ attempt.attempt_id ~ ' (' ~ attempt.operation ~ ' of version ' ~ attempt.version ~ ') '
      ~ ('failed at step ' ~ attempt.failed_step if attempt.status == 'failed' else 'did not finish')
      ~ ': run `profilemesh migrate repair`') -%}
{% endmacro %}

{% macro version_refusal_message(current, head) %}
  {%- if current == 0 -%}
    {%- do return('no ProfileMesh storage in schema ' ~ profilemesh.storage_schema() ~ ': run `profilemesh migrate apply`') -%}
  {%- elif current < head -%}
    {%- do return('storage is at version ' ~ current ~ ', ProfileMesh needs ' ~ head ~ ': run `profilemesh migrate apply`') -%}
  {%- elif current > head -%}
    {%- do return('storage is at version ' ~ current ~ ', newer than this ProfileMesh (' ~ head ~ '): upgrade profilemesh') -%}
  {%- endif -%}
  {%- do return(none) -%}
{% endmacro %}

{#- The store's ledger state, read now (an absent ledger reads as version 0). -#}
{% macro read_store_state() %}
  {%- set relation = profilemesh.storage_relation('schema_version') -%}
  {%- do return(profilemesh.ledger_state(profilemesh.read_attempts(profilemesh.existing_columns(relation) | length > 0))) -%}
{% endmacro %}

{#- A writer (retention) writes only a store exactly at this package's version, with nothing to repair. -#}
{% macro require_writable(ctx) %}
  {%- set state = profilemesh.read_store_state() -%}
  {%- if state.unresolved -%}
    {%- do profilemesh.fail(profilemesh.unfinished_attempt_message(state.unresolved[-1]), ctx=ctx) -%}
  {%- endif -%}
  {%- set refusal = profilemesh.version_refusal_message(state.current, profilemesh.load_migrations() | length) -%}
  {%- if refusal -%}
    {%- do profilemesh.fail(refusal, 'missing' if state.current == 0 else 'refused', ctx=ctx) -%}
  {%- endif -%}
{% endmacro %}
