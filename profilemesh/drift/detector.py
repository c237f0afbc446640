"""`profilemesh drift`: compare each table's current run with its baseline and write each drift once.

Event ids are derived from what the event is about (run, table, column, metric, baseline, strategy),
so running drift again for the same run writes nothing twice. Under the calibrated strategy an event
is an incident: written once on the run where it starts, its metadata's `state` then moves from
`new` to `persisting` (with the runs it has lasted) and to `ended`. An accepted incident
(`drift accept`) is over: from its run on, the new level is the metric's baseline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.config.drift_settings import DriftSettings, TableRules, severity_rank
from profilemesh.config.freshness import FRESHNESS_METRIC, FreshnessSLA
from profilemesh.config.settings import split_table_name
from profilemesh.context import Context
from profilemesh.contract import DRIFT_EVENT_TYPES
from profilemesh.drift.accept import accepted_levels
from profilemesh.drift.calibrated import Incident, Key, replay
from profilemesh.drift.freshness import freshness_of, sla_finding, sla_of
from profilemesh.drift.history import (
    RunMetrics,
    TableRun,
    completed_runs,
    latest_runs,
    load_history,
    load_metrics,
    run_exists,
    same_scope,
)
from profilemesh.drift.strategies import (
    Finding,
    change_percent,
    schema_changes,
    statistical_findings,
    threshold_findings,
)
from profilemesh.errors import CheckFailed, UsageError, first_line
from profilemesh.store import writes
from profilemesh.store.connect import connect
from profilemesh.store.handshake import require_writable
from profilemesh.store.tables import storage_table, stored_schema
from profilemesh.store.target import StorageTarget

DATA_DRIFT, SCHEMA_CHANGE = DRIFT_EVENT_TYPES
EVENT_NAMESPACE = uuid.UUID("5b0f9d3e-6a57-4c1b-9a1e-70726f66696c")
STATISTICAL_HISTORY = 30
# The calibrated strategy replays this many of a table's latest runs to know its baseline and its open
# incidents: the window twice over, and a month of persisting incidents.
CALIBRATED_REPLAY_EXTRA = 30


@dataclass
class DriftEvent:
    event_id: str
    event_type: str  # DATA_DRIFT | SCHEMA_CHANGE
    run_id: str
    schema: str | None
    table: str
    column: str | None
    metric: str | None
    baseline: float | None
    current: float | None
    change_percent: float | None
    severity: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DriftReport:
    strategy: str
    baseline: str
    events: list[DriftEvent] = field(default_factory=list)
    tables_checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed_tables: list[str] = field(default_factory=list)  # latest run failed: nothing compared
    written: int = 0
    updated: int = 0  # incidents whose state moved (persisting, ended)

    def worst(self) -> str | None:
        open_events = [e for e in self.events if e.metadata.get("state") != "ended"]
        return max((e.severity for e in open_events), key=severity_rank, default=None)

    def exit_code(self, fail_on: str | None) -> int:
        if fail_on and self.failed_tables:
            return 1
        worst = self.worst()
        return 1 if fail_on and worst and severity_rank(worst) >= severity_rank(fail_on) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "baseline": self.baseline,
            "tables_checked": self.tables_checked,
            "events": [e.to_dict() for e in self.events],
            "written": self.written,
            "updated": self.updated,
            "failed_tables": self.failed_tables,
            "notes": self.notes,
        }


def detect(
    ctx: Context,
    *,
    table: str | None = None,
    current: str | None = None,
    baseline: str | None = None,
    write: bool = True,
    detected_at: dt.datetime | None = None,
) -> DriftReport:
    """baseline: previous (the threshold and statistical strategies' default), moving_average or a run
    id; the calibrated strategy always compares with each table's history ("history").

    detected_at (naive UTC): the events' timestamp instead of the clock, for programs that replay
    history (the quickstart's simulated days); created_at is always the time of writing."""
    settings, target = ctx.config.drift, ctx.target
    if settings.strategy == "calibrated":
        if baseline not in (None, "history"):
            raise UsageError(
                "--baseline applies to the threshold strategy; the calibrated strategy compares each table "
                "with its own history (set drift_detection.strategy: threshold to compare with one run)"
            )
        baseline = "history"
    elif baseline is None:
        baseline = "previous"
    elif baseline == "history":
        raise UsageError("baseline history is the calibrated strategy's; use previous, moving_average or a run id")
    report = DriftReport(strategy=settings.strategy, baseline=baseline)
    schema_filter, table_filter = split_table_name(table)
    with connect(target, read_only=False) as conn:
        require_writable(conn, target, ctx.head)
        if current is not None and not run_exists(conn, target, current):
            raise CheckFailed(f"run {current} not found")
        if baseline not in ("previous", "moving_average", "history") and not run_exists(conn, target, baseline):
            raise CheckFailed(f"baseline run {baseline} not found")
        by_table: dict[tuple[str | None, str], list[TableRun]] = defaultdict(list)
        for run in completed_runs(conn, target, table=table_filter, schema=schema_filter):
            by_table[(run.schema, run.table)].append(run)
        latest = latest_runs(conn, target, table=table_filter, schema=schema_filter)
        if table and not latest:
            raise UsageError(f"no completed runs of table {table}")
        for key in sorted(set(by_table) | set(latest), key=lambda k: (k[0] or "", k[1])):
            name = f"{key[0]}.{key[1]}" if key[0] else key[1]
            last = latest.get(key)
            if current is None and last is not None and last.status != "completed":
                # Never re-report an older comparison as if it were news: the table's state is its failure.
                report.failed_tables.append(name)
                report.notes.append(f"{name}: latest run {last.run_id} {last.status}: {first_line(last.error or '')}")
                continue
            if key not in by_table:
                continue
            checked = _checked_run(by_table[key], current)
            sla = sla_of(ctx.config, checked) if checked is not None else None
            _check_table(conn, target, by_table[key], current, baseline, settings, report, sla_graded=sla is not None)
            if checked is not None and sla is not None:
                _check_freshness(conn, target, checked, sla, report)
        if write and report.events:
            report.written, report.updated = _write_events(conn, target, report.events, detected_at)
    return report


def _check_table(
    conn: Connection,
    target: StorageTarget,
    runs: list[TableRun],
    current_id: str | None,
    baseline: str,
    settings: DriftSettings,
    report: DriftReport,
    *,
    sla_graded: bool = False,
) -> None:
    name = f"{runs[0].schema}.{runs[0].table}" if runs[0].schema else runs[0].table
    positions = [i for i, r in enumerate(runs) if current_id is None or r.run_id == current_id]
    if not positions:
        return  # the table is not part of the requested run
    runs, position = same_scope(runs, positions[-1])
    if settings.strategy == "calibrated":
        report.tables_checked.append(name)
        table_settings, rules = settings.for_table(runs[0].schema, runs[0].table)
        if sla_graded:  # the table's freshness SLA grades its freshness, alone
            ignored = rules.default.ignore_metrics | {FRESHNESS_METRIC}
            rules = dataclasses.replace(rules, default=dataclasses.replace(rules.default, ignore_metrics=ignored))
        first = max(0, position + 1 - 2 * table_settings.history_window - CALIBRATED_REPLAY_EXTRA)
        replayed = runs[first : position + 1]
        accepted = accepted_levels(conn, target, runs[0].schema, runs[0].table)
        _check_calibrated(load_history(conn, target, replayed), table_settings, rules, accepted, report, name)
        return
    current = load_metrics(conn, target, runs[position])
    earlier = runs[:position]
    report.tables_checked.append(name)
    if baseline == "previous":
        if not earlier:
            report.notes.append(f"{name}: no earlier run to compare with")
            return
        reference = [load_metrics(conn, target, earlier[-1])]
    elif baseline == "moving_average":
        window = earlier[-settings.moving_average_window :]
        if not window:
            report.notes.append(f"{name}: no earlier run to compare with")
            return
        reference = [load_metrics(conn, target, r) for r in window]
    else:
        matches = [r for r in runs if r.run_id == baseline]
        if not matches:
            report.notes.append(f"{name}: not part of baseline run {baseline}")
            return
        reference = [load_metrics(conn, target, matches[0])]

    params: dict[str, Any] = {
        "strategy": settings.strategy,
        "baseline": baseline,
        "baseline_run_ids": [m.run.run_id for m in reference],
    }
    if settings.strategy == "statistical":
        history = [load_metrics(conn, target, r) for r in earlier[-STATISTICAL_HISTORY:]]
        graded = statistical_findings(current, history, settings)
        if graded is None:
            report.notes.append(
                f"{name}: {len(history)} earlier run(s), the statistical strategy needs {settings.min_history}"
            )
        findings = graded or []
        params["history_runs"] = len(history)
    else:
        findings = threshold_findings(current, reference, settings)
    for (column, metric), finding in findings:
        report.events.append(_event(DATA_DRIFT, current, column or None, metric, finding, params))
    for event in _schema_changes(current, reference[-1], params):
        report.events.append(event)


def _check_calibrated(
    history: list[RunMetrics],
    settings: DriftSettings,
    rules: TableRules,
    accepted: Mapping[Key, Collection[str]],
    report: DriftReport,
    name: str,
) -> None:
    verdict = replay(history, settings, rules, accepted)[-1]
    current = history[-1]
    params: dict[str, Any] = {"strategy": "calibrated", "baseline": "history"}
    by_id = {m.run.run_id: m for m in history}
    for state, incidents in (("new", verdict.new), ("persisting", verdict.persisting), ("ended", verdict.ended)):
        for incident in incidents:
            report.events.append(_incident_event(incident, by_id[incident.start_run_id], state, params))
    if verdict.warmup_left:
        report.notes.append(
            f"{name}: {verdict.warmup_left} more run(s) before every metric is graded; until then only "
            "schema changes and gross changes (a row count halved, a share moved by 30 points) alarm"
        )
    if len(history) > 1:
        report.events.extend(_schema_changes(current, history[-2], params))


def _checked_run(runs: list[TableRun], current_id: str | None) -> TableRun | None:
    """The run of a table that drift checks: its latest, or run `current_id`."""
    matches = [r for r in runs if current_id is None or r.run_id == current_id]
    return matches[-1] if matches else None


def _check_freshness(
    conn: Connection, target: StorageTarget, run: TableRun, sla: FreshnessSLA, report: DriftReport
) -> None:
    lag = freshness_of(conn, target, run)
    graded = sla_finding(sla, lag) if lag is not None else None
    if graded is not None:
        finding, params = graded
        current = RunMetrics(run=run)
        report.events.append(_event(DATA_DRIFT, current, None, FRESHNESS_METRIC, finding, params))


def _incident_event(incident: Incident, start: RunMetrics, state: str, params: dict[str, Any]) -> DriftEvent:
    alarm = incident.alarm
    finding = Finding(
        alarm.severity,
        alarm.expected,
        alarm.current,
        change_percent(alarm.expected, alarm.current),
        "calibrated",
        alarm.score,
    )
    event = _event(DATA_DRIFT, start, alarm.column or None, alarm.metric, finding, params)
    event.metadata = {
        **params,
        **alarm.metadata(),
        "state": state,
        "runs": incident.runs,
        "last_run_id": incident.last_run_id,
    }
    if incident.ended_run_id is not None:
        event.metadata["ended_run_id"] = incident.ended_run_id
    return event


def _schema_changes(current: RunMetrics, reference: RunMetrics, params: dict[str, Any]) -> list[DriftEvent]:
    events = []
    for change in schema_changes(current, reference):
        finding = Finding(change.severity, float("nan"), float("nan"), None, "schema", 0.0)
        details = {"change": change.change, "before": change.before, "after": change.after}
        events.append(_event(SCHEMA_CHANGE, current, change.column, None, finding, {**params, **details}))
    return events


def _event(
    event_type: str,
    current: RunMetrics,
    column: str | None,
    metric: str | None,
    finding: Finding,
    params: dict[str, Any],
) -> DriftEvent:
    run = current.run
    identity = "|".join(
        str(p)
        for p in (run.run_id, run.schema, run.table, column, metric, event_type, params["strategy"], params["baseline"])
    )
    numeric = finding.measure != "schema"
    return DriftEvent(
        event_id=str(uuid.uuid5(EVENT_NAMESPACE, identity)),
        event_type=event_type,
        run_id=run.run_id,
        schema=run.schema,
        table=run.table,
        column=column,
        metric=metric,
        baseline=finding.baseline if numeric else None,
        current=finding.current if numeric else None,
        change_percent=finding.change_percent,
        severity=finding.severity,
        metadata={**params, **({"measure": finding.measure, "score": finding.score} if numeric else {})},
    )


def _write_events(
    conn: Connection, target: StorageTarget, events: list[DriftEvent], detected_at: dt.datetime | None = None
) -> tuple[int, int]:
    """Insert the events not stored yet; for a stored incident whose state moved, update its metadata
    (the only stored value drift ever changes). Returns (inserted, updated)."""
    table = storage_table(target, "events")
    ids = [e.event_id for e in events]
    existing = {
        row.event_id: row.metadata
        for row in conn.execute(sa.select(table.c.event_id, table.c.metadata).where(table.c.event_id.in_(ids)))
    }
    now = utc_now()
    rows = [
        {
            "event_id": e.event_id,
            "event_type": e.event_type,
            "run_id": e.run_id,
            "schema_name": stored_schema(e.schema),
            "table_name": e.table,
            "column_name": e.column,
            "metric_name": e.metric,
            "baseline_value": e.baseline,
            "current_value": e.current,
            "change_percent": e.change_percent,
            "drift_severity": e.severity,
            "timestamp": detected_at or now,
            "metadata": json.dumps(e.metadata, sort_keys=True),
            "created_at": now,
        }
        for e in events
        if e.event_id not in existing
    ]
    moved = [
        e
        for e in events
        if e.event_id in existing
        and "state" in e.metadata
        and _stored_state(existing[e.event_id]) != (e.metadata["state"], e.metadata.get("runs"))
    ]
    with writes.all_or_nothing(conn, "writing drift events failed, none was written"):
        writes.insert(conn, target, "events", rows)
        for e in moved:
            conn.execute(
                sa.update(table)
                .where(table.c.event_id == e.event_id)
                .values(metadata=json.dumps(e.metadata, sort_keys=True))
            )
    return len(rows), len(moved)


def _stored_state(metadata: Any) -> tuple[Any, Any]:
    try:
        stored = json.loads(metadata) if isinstance(metadata, str) else (metadata or {})
    except ValueError:
        return (None, None)
    return (stored.get("state"), stored.get("runs"))
