"""What an alert says: one group per table and run (severity, what changed, baseline and current, where
to look deeper), rendered for each destination type. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from profilemesh.contract import DRIFT_VIEW, SEVERITIES

PAYLOAD_VERSION = 1
MESSAGE_NAMESPACE = uuid.UUID("8d7c0f4e-3b1a-4e59-9a6b-616c65727473")


@dataclass(frozen=True)
class AlertEvent:
    """A drift event as the store holds it (profilemesh_events)."""

    event_id: str
    event_type: str
    run_id: str | None
    schema: str | None
    table: str
    column: str | None
    metric: str | None
    baseline: float | None
    current: float | None
    change_percent: float | None
    severity: str
    detected_at: dt.datetime
    metadata: dict[str, Any]

    @property
    def table_name(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def incident_key(self) -> tuple[str | None, str, str | None, str | None, str]:
        """What makes two events the same incident for suppression: table, column, metric, event type."""
        return (self.schema, self.table, self.column, self.metric, self.event_type)

    def change(self) -> str:
        """What changed, in one line: `mean 102.3 -> 180.1 (+76.0%)` or `column removed`."""
        what = self.metric or "schema"
        if self.baseline is None and self.current is None:
            return str(self.metadata.get("change") or self.event_type)
        change = "" if self.change_percent is None else f" ({self.change_percent:+.1f}%)"
        return f"{what} {_number(self.baseline)} -> {_number(self.current)}{change}"

    def to_payload(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "column": self.column,
            "metric": self.metric,
            "baseline": self.baseline,
            "current": self.current,
            "change_percent": self.change_percent,
            "severity": self.severity,
            "state": self.metadata.get("state"),
            "change": self.change(),
            "detected_at": self.detected_at.isoformat() + "Z",
        }


@dataclass(frozen=True)
class AlertGroup:
    """The events of one table in one run: one message, or one section of a digest."""

    run_id: str | None
    schema: str | None
    table: str
    owner: str | None
    events: tuple[AlertEvent, ...]

    @property
    def table_name(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def severity(self) -> str:
        return max((e.severity for e in self.events), key=SEVERITIES.index)

    def look_deeper(self) -> str:
        return f"profilemesh query drift --table {self.table_name}"

    def view_query(self) -> str:
        run = f"run_id = '{self.run_id}'" if self.run_id else f"table_name = '{self.table}'"
        return f"select * from {DRIFT_VIEW} where {run}"

    def headline(self) -> str:
        count = len(self.events)
        return f"[{self.severity.upper()}] drift in {self.table_name}: {count} change{'s' if count != 1 else ''}"

    def lines(self) -> list[str]:
        out = []
        for e in sorted(self.events, key=lambda e: (-SEVERITIES.index(e.severity), e.column or "", e.metric or "")):
            where = e.column or "(table)"
            state = e.metadata.get("state")
            out.append(f"{where}: {e.change()} [{e.severity}{', ' + state if state else ''}]")
        return out


@dataclass(frozen=True)
class AlertMessage:
    """One message to one destination: a table's events, or (digest) every pending table's."""

    destination: str
    destination_type: str
    groups: tuple[AlertGroup, ...]
    environment: str
    digest: bool = False

    @property
    def events(self) -> list[AlertEvent]:
        return [e for g in self.groups for e in g.events]

    @property
    def message_id(self) -> str:
        """Derived from the destination and the events: a re-send after a crash carries the same id, so a
        receiver can drop the duplicate."""
        ids = ",".join(sorted(e.event_id for e in self.events))
        return str(uuid.uuid5(MESSAGE_NAMESPACE, f"{self.destination}|{ids}"))

    @property
    def severity(self) -> str:
        return max((g.severity for g in self.groups), key=SEVERITIES.index)

    def subject(self) -> str:
        if len(self.groups) == 1:
            return f"ProfileMesh {self.groups[0].headline()}"
        tables = len({g.table_name for g in self.groups})
        return f"ProfileMesh [{self.severity.upper()}] drift digest: {len(self.events)} changes in {tables} tables"

    def text(self) -> str:
        """Plain text: the email body, and what chat destinations show."""
        parts = []
        for g in self.groups:
            owner = f", owner {g.owner}" if g.owner else ""
            run = f" (run {g.run_id}{owner})" if g.run_id else ""
            body = "\n".join(f"  - {line}" for line in g.lines())
            parts.append(
                f"{g.headline()}{run}\n{body}\n  Look deeper: {g.look_deeper()}\n  or in SQL: {g.view_query()}"
            )
        return "\n\n".join(parts) + f"\n\n(environment {self.environment}; message {self.message_id})\n"

    def webhook_body(self, sent_at: dt.datetime) -> dict[str, Any]:
        """The generic webhook's JSON (docs/guides/alerts.md documents every field)."""
        return {
            "payload_version": PAYLOAD_VERSION,
            "kind": "profilemesh.drift",
            "message_id": self.message_id,
            "destination": self.destination,
            "environment": self.environment,
            "sent_at": sent_at.isoformat() + "Z",
            "digest": self.digest,
            "severity": self.severity,
            "summary": self.subject(),
            "groups": [
                {
                    "run_id": g.run_id,
                    "schema": g.schema,
                    "table": g.table,
                    "owner": g.owner,
                    "severity": g.severity,
                    "look_deeper": g.look_deeper(),
                    "view_query": g.view_query(),
                    "events": [e.to_payload() for e in g.events],
                }
                for g in self.groups
            ],
        }

    def slack_body(self, channel: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "text": self.subject(),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.subject()[:150]}},
                *(
                    {"type": "section", "text": {"type": "mrkdwn", "text": _slack_section(g)[:3000]}}
                    for g in self.groups[:45]
                ),
            ],
        }
        if channel:
            body["channel"] = channel
        return body

    def teams_body(self) -> dict[str, Any]:
        """An Adaptive Card, as a Teams workflow ("post to a channel when a webhook request is received") takes it."""
        blocks: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": self.subject(), "weight": "Bolder", "size": "Medium", "wrap": True}
        ]
        for g in self.groups:
            blocks.append({"type": "TextBlock", "text": g.headline(), "weight": "Bolder", "wrap": True})
            blocks.append({"type": "TextBlock", "text": "\n".join(f"- {x}" for x in g.lines()), "wrap": True})
            blocks.append({"type": "TextBlock", "text": f"Look deeper: `{g.look_deeper()}`", "wrap": True})
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": blocks,
        }
        return {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }

    def email(self, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = self.subject()
        mail["From"] = sender
        mail["To"] = ", ".join(recipients)
        mail["Message-ID"] = f"<{self.message_id}@profilemesh>"
        mail["X-ProfileMesh-Message-Id"] = self.message_id
        mail.set_content(self.text())
        return mail


def json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _slack_section(g: AlertGroup) -> str:
    lines = "\n".join(f"• {line}" for line in g.lines())
    return f"*{g.headline()}*\n{lines}\nLook deeper: `{g.look_deeper()}`"


def _number(value: float | None) -> str:
    if value is None:
        return "none"
    return f"{value:.6g}"
