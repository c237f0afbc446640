"""`profilemesh alert`: each new drift event sent once to the destinations routed to it (Slack, Microsoft
Teams, a signed generic webhook, email), one message per table and run (or one digest per run of the
command), with every delivery recorded in the store (profilemesh_alert_deliveries, schema version 5).

- `pending`: the drift events not yet delivered, routed (table glob, severity, owner) and suppressed
  (an incident alerted within the window), grouped into messages;
- `messages`: what a message says, as text, a generic-webhook JSON body, Slack, Teams and email;
- `transport`: sending over HTTP (requests) and SMTP (smtplib), with retries and backoff;
- `deliveries`: the delivery record: `attempting` committed before a send, `sent` or `failed` after;
- `runner`: `send_alerts`, the command.
"""
