"""The delivery record (profilemesh_alert_deliveries, schema version 5): one row per event and
destination. `attempting` is committed before a message is sent and `sent` (or `failed`) after, each
in its own transaction after the writers' version handshake, so a crash in between leaves
`attempting`, which the next run sends again: at most one duplicate, never a lost alert."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.alerts.messages import AlertEvent, AlertMessage
from profilemesh.alerts.pending import ATTEMPTING, FAILED, SENT, SUPPRESSED, Record
from profilemesh.config.alerts import Destination
from profilemesh.errors import DatabaseError, first_line
from profilemesh.store import writes
from profilemesh.store.handshake import require_writable
from profilemesh.store.tables import storage_table, stored_schema
from profilemesh.store.target import StorageTarget

DELIVERY_NAMESPACE = uuid.UUID("3f1e9c55-0d0b-4f3a-8a55-64656c697672")


def delivery_id(event_id: str, destination: str) -> str:
    """Derived from the event and the destination: a second attempt finds (and updates) the first's row."""
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{event_id}|{destination}"))


class Recorder:
    """Writes the delivery records of one `alert` run."""

    def __init__(
        self,
        conn: Connection,
        target: StorageTarget,
        head: int,
        records: dict[tuple[str, str], Record],
        before_commit: Callable[[str], None],
    ):
        self.conn, self.target, self.head = conn, target, head
        self.records = dict(records)
        self.before_commit = before_commit

    def attempting(self, message: AlertMessage, now: dt.datetime) -> None:
        self._write(message.destination, message.destination_type, message.events, ATTEMPTING, now,
                    message_id=message.message_id)  # fmt: skip

    def finished(self, message: AlertMessage, now: dt.datetime, *, tries: int, error: str | None) -> None:
        status = FAILED if error else SENT
        self._write(message.destination, message.destination_type, message.events, status, now,
                    message_id=message.message_id, tries=tries, error=error, hook="alerts")  # fmt: skip

    def suppressed(self, destination: Destination, events: Sequence[AlertEvent], now: dt.datetime) -> None:
        self._write(destination.name, destination.type, events, SUPPRESSED, now)

    def _write(
        self,
        destination: str,
        destination_type: str,
        events: Sequence[AlertEvent],
        status: str,
        now: dt.datetime,
        *,
        message_id: str | None = None,
        tries: int = 0,
        error: str | None = None,
        hook: str | None = None,
    ) -> None:
        if not events:
            return
        try:
            require_writable(self.conn, self.target, self.head)
            for event in events:
                self._upsert(destination, destination_type, event, status, now, message_id, tries, error)
            if hook is not None:
                self.before_commit(hook)
            self.conn.commit()
        except sa.exc.DBAPIError as exc:
            self.conn.rollback()
            raise DatabaseError(
                f"recording alert deliveries ({status}) failed: {first_line(str(exc.orig or exc))}"
            ) from exc
        except BaseException:
            self.conn.rollback()
            raise

    def _upsert(
        self,
        destination: str,
        destination_type: str,
        event: AlertEvent,
        status: str,
        now: dt.datetime,
        message_id: str | None,
        tries: int,
        error: str | None,
    ) -> None:
        key = (event.event_id, destination)
        before = self.records.get(key)
        attempts = (before.attempts if before else 0) + tries
        first = before.first_attempt_at if before and before.first_attempt_at else now
        row = {
            "delivery_id": delivery_id(event.event_id, destination),
            "event_id": event.event_id,
            "destination": destination,
            "destination_type": destination_type,
            "run_id": event.run_id,
            "schema_name": stored_schema(event.schema),
            "dataset_name": event.table,
            "message_id": message_id,
            "status": status,
            "attempts": attempts,
            "last_error": error,
            "first_attempt_at": first,
            "last_attempt_at": now,
            "sent_at": now if status == SENT else None,
        }
        writes.upsert(self.conn, self.target, "alert_deliveries", ["delivery_id"], row)
        self.records[key] = Record(event.event_id, destination, status, attempts, first)


def delivery_rows(conn: Connection, target: StorageTarget) -> list[dict[str, object]]:
    """Every delivery record, oldest first (for `alert --history` and tests)."""
    table = storage_table(target, "alert_deliveries")
    query = sa.select(table).order_by(table.c.first_attempt_at, table.c.destination, table.c.event_id)
    return [dict(row._mapping) for row in conn.execute(query)]
