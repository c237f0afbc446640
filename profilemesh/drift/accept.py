"""`profilemesh drift accept`: a drift event's change is expected.

The acceptance is stored on the event itself (accepted_at, accepted_by, accepted_reason; schema
version 3), written once and never rewritten. From the event's run on, the calibrated strategy takes
the new level as the metric's baseline: its history is moved to that level (its spread and weekly
pattern kept), so the incident ends, no new one opens for the same change, and the next real move is
graded against the level the user accepted. `query drift` shows who accepted what, when and why.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.context import Context
from profilemesh.contract import DRIFT_EVENT_TYPES
from profilemesh.drift import EVENT_ID_PREFIX
from profilemesh.errors import CheckFailed, DatabaseError, UsageError, first_line
from profilemesh.store.connect import connect
from profilemesh.store.handshake import require_writable
from profilemesh.store.tables import storage_table, stored_schema
from profilemesh.store.target import StorageTarget

Key = tuple[str, str]  # (column, metric); the table's row count is ("", "row_count")


@dataclass(frozen=True)
class Acceptance:
    """An accepted drift event. `already`: it had been accepted before; nothing was written."""

    event_id: str
    event_type: str
    run_id: str | None
    table: str
    column: str | None
    metric: str | None
    accepted_at: dt.datetime
    accepted_by: str | None
    reason: str | None
    already: bool = False


def accept(
    ctx: Context, event_id: str, *, reason: str | None = None, by: str | None = None, at: dt.datetime | None = None
) -> Acceptance:
    """Accept drift event `event_id` (the whole id, or a prefix of at least 8 characters that names one
    event). Accepting an accepted event changes nothing and says so."""
    wanted = event_id.strip()
    if len(wanted) < EVENT_ID_PREFIX:
        raise UsageError(f"event id {wanted!r} is too short: give at least {EVENT_ID_PREFIX} characters of it")
    target = ctx.target
    with connect(target, read_only=False) as conn:
        require_writable(conn, target, ctx.head)
        events = storage_table(target, "events")
        row = _one_event(conn, events, wanted)
        name = f"{row.schema_name}.{row.table_name}" if row.schema_name else row.table_name
        if row.event_type not in DRIFT_EVENT_TYPES:
            raise UsageError(f"event {row.event_id} is a {row.event_type} event; only drift events are accepted")
        if row.accepted_at is not None:
            return Acceptance(
                row.event_id, row.event_type, row.run_id, name, row.column_name, row.metric_name,
                row.accepted_at, row.accepted_by, row.accepted_reason, already=True,
            )  # fmt: skip
        when = at or utc_now()
        who = by if by is not None else _user()
        try:
            conn.execute(
                sa.update(events)
                .where(events.c.event_id == row.event_id, events.c.accepted_at.is_(None))
                .values(accepted_at=when, accepted_by=who, accepted_reason=reason)
            )
            conn.commit()
        except sa.exc.DBAPIError as exc:
            conn.rollback()
            problem = first_line(str(exc.orig or exc))
            raise DatabaseError(f"recording the acceptance failed, nothing was written: {problem}") from exc
    return Acceptance(
        row.event_id, row.event_type, row.run_id, name, row.column_name, row.metric_name, when, who, reason
    )


def _one_event(conn: Connection, events: sa.TableClause, wanted: str) -> sa.Row[tuple[object, ...]]:
    columns = [
        events.c.event_id, events.c.event_type, events.c.run_id, events.c.schema_name, events.c.table_name,
        events.c.column_name, events.c.metric_name, events.c.accepted_at, events.c.accepted_by,
        events.c.accepted_reason,
    ]  # fmt: skip
    exact = conn.execute(sa.select(*columns).where(events.c.event_id == wanted)).first()
    if exact is not None:
        return exact
    # "!" escapes LIKE's wildcards: a backslash is itself an escape in some dialects' string literals.
    escaped = wanted.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    prefixed = events.c.event_id.like(escaped + "%", escape="!")
    found = conn.execute(sa.select(*columns).where(prefixed).order_by(events.c.event_id).limit(3)).all()
    if not found:
        raise CheckFailed(f"drift event {wanted} not found")
    if len(found) > 1:
        shown = ", ".join(str(r.event_id) for r in found[:2])
        raise UsageError(f"event id {wanted} names several events ({shown}, ...): give more characters")
    return found[0]


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return None


def accepted_levels(
    conn: Connection, target: StorageTarget, schema: str | None, table: str
) -> dict[Key, frozenset[str]]:
    """For each (column, metric) of a table, the runs from which a user accepted its new level."""
    events = storage_table(target, "events")
    schema_match = events.c.schema_name == stored_schema(schema)
    query = sa.select(events.c.run_id, events.c.column_name, events.c.metric_name).where(
        events.c.accepted_at.is_not(None),
        events.c.event_type == DRIFT_EVENT_TYPES[0],
        events.c.table_name == table,
        schema_match,
        events.c.run_id.is_not(None),
        events.c.metric_name.is_not(None),
    )
    found: dict[Key, set[str]] = defaultdict(set)
    for row in conn.execute(query):
        found[(row.column_name or "", row.metric_name)].add(row.run_id)
    return {key: frozenset(runs) for key, runs in found.items()}
