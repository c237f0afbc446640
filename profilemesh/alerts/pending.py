"""Which drift events each destination still has to get, and in which messages.

An event is a candidate while it is recent (`alerts.lookback_days`, by when it was written), not
accepted, graded above none, and has no `sent` or `suppressed` record for the destination; an event
with an `attempting` record (a crash between sending and recording) is a candidate at any age, so no
alert is lost. Routing keeps the events of the tables, severities and owners a destination asks for.
Suppression: an event whose incident (table, column, metric, event type) was already alerted to the
destination, by an event detected less than `suppress_hours` before it, is recorded as `suppressed`
instead of sent (a persisting incident is not re-alerted while it keeps recurring)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.alerts.messages import AlertEvent, AlertGroup, AlertMessage
from profilemesh.config.alerts import AlertSettings, Destination
from profilemesh.contract import DRIFT_EVENT_TYPES
from profilemesh.store.tables import storage_table
from profilemesh.store.target import StorageTarget

SENT, ATTEMPTING, FAILED, SUPPRESSED = "sent", "attempting", "failed", "suppressed"
DELIVERY_STATUSES = (ATTEMPTING, SENT, FAILED, SUPPRESSED)
# A delivery record of these statuses counts as "alerted" for suppression.
ALERTED = (SENT, ATTEMPTING, SUPPRESSED)
_CHUNK = 500


@dataclass(frozen=True)
class Record:
    """A row of profilemesh_alert_deliveries, as far as planning needs it."""

    event_id: str
    destination: str
    status: str
    attempts: int
    first_attempt_at: dt.datetime | None


@dataclass(frozen=True)
class Plan:
    messages: list[AlertMessage]
    suppressed: list[tuple[Destination, AlertEvent]]
    records: dict[tuple[str, str], Record]  # (event_id, destination) -> its record


def plan(conn: Connection, target: StorageTarget, settings: AlertSettings, environment: str, now: dt.datetime) -> Plan:
    since = now - dt.timedelta(days=settings.lookback_days)
    recent = _events(conn, target, since=since)
    records = _records(conn, target, [e.event_id for e in recent])
    unfinished = _unfinished_records(conn, target)
    records.update(unfinished)
    missing = {event_id for event_id, _ in unfinished} - {e.event_id for e in recent}
    events = recent + _events(conn, target, ids=sorted(missing))
    window = dt.timedelta(hours=settings.suppress_hours)
    earliest = min((e.detected_at for e in events), default=now) - window
    alerted = _alerted(conn, target, since=earliest)
    messages: list[AlertMessage] = []
    suppressed: list[tuple[Destination, AlertEvent]] = []
    for destination in settings.destinations:
        due: list[AlertEvent] = []
        last: dict[tuple[Any, ...], dt.datetime] = {
            key: when for (name, key), when in alerted.items() if name == destination.name
        }
        for event in sorted(events, key=lambda e: (e.detected_at, e.event_id)):
            record = records.get((event.event_id, destination.name))
            if record is not None and record.status in (SENT, SUPPRESSED):
                continue
            resend = record is not None and record.status == ATTEMPTING
            owner = settings.owner_of(event.schema, event.table)
            if not resend and not destination.wants(event.schema, event.table, event.severity, owner):
                continue
            previous = last.get(event.incident_key)
            if (
                not resend
                and previous is not None
                and previous < event.detected_at
                and event.detected_at - previous < window
            ):
                suppressed.append((destination, event))
            else:
                due.append(event)
            if previous is None or event.detected_at > previous:
                last[event.incident_key] = event.detected_at
        messages.extend(_messages(destination, due, settings, environment))
    return Plan(messages=messages, suppressed=suppressed, records=records)


def _messages(
    destination: Destination, events: Sequence[AlertEvent], settings: AlertSettings, environment: str
) -> list[AlertMessage]:
    by_table: dict[tuple[str | None, str | None, str], list[AlertEvent]] = defaultdict(list)
    for e in events:
        by_table[(e.run_id, e.schema, e.table)].append(e)
    groups = [
        AlertGroup(run_id, schema, table, settings.owner_of(schema, table), tuple(found))
        for (run_id, schema, table), found in by_table.items()
    ]
    if not groups:
        return []
    if destination.digest:
        return [AlertMessage(destination.name, destination.type, tuple(groups), environment, digest=True)]
    return [AlertMessage(destination.name, destination.type, (g,), environment) for g in groups]


def _events(
    conn: Connection, target: StorageTarget, *, since: dt.datetime | None = None, ids: Sequence[str] = ()
) -> list[AlertEvent]:
    events = storage_table(target, "events")
    columns = [
        events.c.event_id, events.c.event_type, events.c.run_id, events.c.schema_name, events.c.table_name,
        events.c.column_name, events.c.metric_name, events.c.baseline_value, events.c.current_value,
        events.c.change_percent, events.c.drift_severity, events.c.timestamp, events.c.metadata,
    ]  # fmt: skip
    base = sa.select(*columns).where(
        events.c.event_type.in_(DRIFT_EVENT_TYPES),
        events.c.accepted_at.is_(None),
        events.c.drift_severity.in_(("low", "medium", "high")),
    )
    if since is not None:
        rows: Iterable[Any] = conn.execute(base.where(events.c.created_at >= since))
    else:
        rows = [row for chunk in _chunks(ids) for row in conn.execute(base.where(events.c.event_id.in_(chunk)))]
    return [
        AlertEvent(
            event_id=row.event_id,
            event_type=row.event_type,
            run_id=row.run_id,
            schema=row.schema_name or None,
            table=row.table_name,
            column=row.column_name,
            metric=row.metric_name,
            baseline=row.baseline_value,
            current=row.current_value,
            change_percent=row.change_percent,
            severity=row.drift_severity,
            detected_at=row.timestamp,
            metadata=_metadata(row.metadata),
        )
        for row in rows
    ]


def _records(conn: Connection, target: StorageTarget, event_ids: Sequence[str]) -> dict[tuple[str, str], Record]:
    deliveries = storage_table(target, "alert_deliveries")
    found: dict[tuple[str, str], Record] = {}
    for chunk in _chunks(event_ids):
        query = _record_query(deliveries).where(deliveries.c.event_id.in_(chunk))
        found.update(_as_records(conn.execute(query)))
    return found


def _unfinished_records(conn: Connection, target: StorageTarget) -> dict[tuple[str, str], Record]:
    """Attempts that never recorded their outcome (the process ended between sending and recording)."""
    deliveries = storage_table(target, "alert_deliveries")
    return _as_records(conn.execute(_record_query(deliveries).where(deliveries.c.status == ATTEMPTING)))


def _record_query(deliveries: sa.TableClause) -> sa.Select[Any]:
    return sa.select(
        deliveries.c.event_id,
        deliveries.c.destination,
        deliveries.c.status,
        deliveries.c.attempts,
        deliveries.c.first_attempt_at,
    )


def _as_records(rows: Iterable[Any]) -> dict[tuple[str, str], Record]:
    return {
        (row.event_id, row.destination): Record(
            row.event_id, row.destination, row.status, int(row.attempts or 0), row.first_attempt_at
        )
        for row in rows
    }


def _alerted(
    conn: Connection, target: StorageTarget, *, since: dt.datetime
) -> dict[tuple[str, tuple[Any, ...]], dt.datetime]:
    """(destination, incident key) -> when its latest alerted event was detected, from `since` on."""
    deliveries = storage_table(target, "alert_deliveries")
    events = storage_table(target, "events")
    incident = (
        deliveries.c.destination,
        events.c.schema_name,
        events.c.table_name,
        events.c.column_name,
        events.c.metric_name,
        events.c.event_type,
    )
    query = (
        sa.select(*incident, sa.func.max(events.c.timestamp).label("detected_at"))
        .select_from(deliveries.join(events, deliveries.c.event_id == events.c.event_id))
        .where(deliveries.c.status.in_(ALERTED), events.c.timestamp >= since)
        .group_by(*incident)
    )
    return {
        (
            row.destination,
            (row.schema_name or None, row.table_name, row.column_name, row.metric_name, row.event_type),
        ): (row.detected_at)
        for row in conn.execute(query)
    }


def _metadata(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])
