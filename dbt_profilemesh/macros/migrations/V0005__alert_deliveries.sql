{#- Version 5: where each drift event's alert went (`profilemesh alert`). One row per event and
    destination, keyed by delivery_id (derived from the two, so a second attempt finds the first):
    `attempting` is committed before the message is sent and `sent` after it, so a crash between the
    two re-sends the message once on the next run and never loses it; `failed` keeps the last error;
    `suppressed` marks an event not sent because its incident was alerted within the suppression
    window. message_id groups the events sent in one message (one table of one run, or a digest).
    See docs/guides/alerts.md and docs/schemas/SCHEMA_REFERENCE.md. -#}
{% macro profilemesh_migration_0005() %}
  {%- do return({
    'version': 5,
    'description': 'Alert deliveries: which drift event went to which destination, when, and failures',
    'steps': [
      {'id': 'create_alert_deliveries', 'op': 'create_table', 'table': 'alert_deliveries',
       'primary_key': ['delivery_id'],
       'columns': [
         {'name': 'delivery_id', 'type': 'varchar(36)', 'nullable': false},
         {'name': 'event_id', 'type': 'varchar(36)', 'nullable': false},
         {'name': 'destination', 'type': 'varchar(255)', 'nullable': false},
         {'name': 'destination_type', 'type': 'varchar(50)'},
         {'name': 'run_id', 'type': 'varchar(36)'},
         {'name': 'schema_name', 'type': 'varchar(255)'},
         {'name': 'dataset_name', 'type': 'varchar(255)'},
         {'name': 'message_id', 'type': 'varchar(36)'},
         {'name': 'status', 'type': 'varchar(20)', 'nullable': false},
         {'name': 'attempts', 'type': 'integer'},
         {'name': 'last_error', 'type': 'text'},
         {'name': 'first_attempt_at', 'type': 'timestamp'},
         {'name': 'last_attempt_at', 'type': 'timestamp'},
         {'name': 'sent_at', 'type': 'timestamp'},
       ]},
      {'id': 'index_alert_deliveries_event', 'op': 'create_index', 'table': 'alert_deliveries',
       'suffix': 'event', 'columns': ['event_id']},
    ]
  }) -%}
{% endmacro %}
