"""`profilemesh alert`: send each pending drift alert once, and record where it went."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from profilemesh.alerts.deliveries import Recorder
from profilemesh.alerts.messages import AlertEvent, AlertMessage
from profilemesh.alerts.pending import FAILED, SENT, SUPPRESSED, plan
from profilemesh.alerts.transport import send_with_retries, sender
from profilemesh.clock import utc_now
from profilemesh.config.alerts import AlertSettings, Destination
from profilemesh.context import Context
from profilemesh.contract import SEVERITIES
from profilemesh.errors import EXIT_DATABASE, EXIT_OK, UsageError
from profilemesh.store import DEFAULT_LOCK_TIMEOUT
from profilemesh.store.connect import connect
from profilemesh.store.handshake import require_writable
from profilemesh.store.ledger import read_ledger_on
from profilemesh.store.locks.run_lock import RunLock, run_lock

DRY_RUN = "would send"


@dataclass(frozen=True)
class Delivery:
    """One message to one destination (or the events suppressed for it), and how it went."""

    destination: str
    type: str
    tables: list[str]
    severity: str
    events: int
    status: str  # sent | failed | suppressed | would send
    tries: int = 0
    error: str | None = None
    message_id: str | None = None


@dataclass
class AlertReport:
    deliveries: list[Delivery] = field(default_factory=list)
    dry_run: bool = False

    @property
    def sent(self) -> int:
        return sum(d.events for d in self.deliveries if d.status == SENT)

    @property
    def failed(self) -> int:
        return sum(d.events for d in self.deliveries if d.status == FAILED)

    @property
    def suppressed(self) -> int:
        return sum(d.events for d in self.deliveries if d.status == SUPPRESSED)

    @property
    def exit_code(self) -> int:
        """3 (a connection error) when a message could not be delivered; it is retried on the next run."""
        return EXIT_DATABASE if self.failed else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "sent": self.sent,
            "failed": self.failed,
            "suppressed": self.suppressed,
            "deliveries": [asdict(d) for d in self.deliveries],
        }


def send_alerts(
    ctx: Context,
    *,
    dry_run: bool = False,
    destinations: tuple[str, ...] = (),
    sleep: Callable[[float], None] = time.sleep,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> AlertReport:
    """Send the drift events not yet delivered to each configured destination (or only those named),
    one message per table and run (a digest destination: one message), each delivery recorded. One run
    at a time per store (store/locks/run_lock.py): a second one waits up to `lock_timeout` seconds for
    the first to finish, then sends only what that one did not (a dry run takes no lock)."""
    settings = ctx.config.alerts
    if not settings.destinations:
        where = ctx.config.path or "profilemesh.yml"
        raise UsageError(f"no alert destinations configured: add alerts.destinations to {where}")
    known = {d.name for d in settings.destinations}
    unknown = [name for name in destinations if name not in known]
    if unknown:
        raise UsageError(f"no alert destination named {unknown[0]}: configured are {', '.join(sorted(known))}")
    chosen = [d for d in settings.destinations if not destinations or d.name in destinations]
    settings = dataclasses.replace(settings, destinations=tuple(chosen))
    by_name = {d.name: d for d in chosen}
    # Every chosen destination's secrets, before the store is read: a variable that is not set is exit 2.
    secrets = {} if dry_run else {d.name: _secrets(d, ctx) for d in chosen}
    if dry_run:
        return _run(ctx, settings, by_name, secrets, sleep, RunLock(), dry_run=True)
    with run_lock(ctx.target, "alert", timeout=lock_timeout, purpose="profilemesh alert") as lock:
        return _run(ctx, settings, by_name, secrets, sleep, lock, dry_run=False)


def _run(
    ctx: Context,
    settings: AlertSettings,
    by_name: dict[str, Destination],
    secrets: dict[str, dict[str, str]],
    sleep: Callable[[float], None],
    lock: RunLock,
    *,
    dry_run: bool,
) -> AlertReport:
    report = AlertReport(dry_run=dry_run)
    target = ctx.target
    with connect(target, read_only=dry_run) as conn:
        if dry_run:  # the version check alone: a dry run takes no lock
            ctx.store_state(read_ledger_on(conn, target)).require_writable()
        else:
            require_writable(conn, target, ctx.head)
        work = plan(conn, target, settings, ctx.config.environment, utc_now())
        conn.rollback()
        recorder = Recorder(conn, target, ctx.head, work.records, ctx.hooks.before_commit)
        suppressed: dict[str, list[AlertEvent]] = {}
        for destination, event in work.suppressed:
            suppressed.setdefault(destination.name, []).append(event)
        for name, events in suppressed.items():
            if not dry_run:
                recorder.suppressed(by_name[name], events, utc_now())
            tables = sorted({e.table_name for e in events})
            worst = max((e.severity for e in events), key=SEVERITIES.index)
            report.deliveries.append(Delivery(name, by_name[name].type, tables, worst, len(events), SUPPRESSED))
        for message in work.messages:
            if dry_run:
                report.deliveries.append(_delivery(message, DRY_RUN, 0, None))
                continue
            lock.renew()
            report.deliveries.append(_deliver(message, by_name[message.destination], secrets, recorder, ctx, sleep))
    return report


def _deliver(
    message: AlertMessage,
    destination: Destination,
    secrets: dict[str, dict[str, str]],
    recorder: Recorder,
    ctx: Context,
    sleep: Callable[[float], None],
) -> Delivery:
    settings = ctx.config.alerts
    recorder.attempting(message, utc_now())
    send = sender(destination, message, secrets[destination.name], settings.timeout_seconds, utc_now())
    outcome = send_with_retries(send, settings.retry, sleep)
    recorder.finished(message, utc_now(), tries=outcome.tries, error=outcome.error)
    return _delivery(message, SENT if outcome.ok else FAILED, outcome.tries, outcome.error)


def _delivery(message: AlertMessage, status: str, tries: int, error: str | None) -> Delivery:
    return Delivery(
        destination=message.destination,
        type=message.destination_type,
        tables=[g.table_name for g in message.groups],
        severity=message.severity,
        events=len(message.events),
        status=status,
        tries=tries,
        error=error,
        message_id=message.message_id,
    )


def _secrets(destination: Destination, ctx: Context) -> dict[str, str]:
    return {key: secret.resolve(ctx.config.path) for key, secret in destination.secrets.items()}
