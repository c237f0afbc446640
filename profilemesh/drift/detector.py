"""`profilemesh drift`: compare each table's current run with its baseline and write each drift once.

Event ids are derived from what the event is about (run, table, column, metric, baseline, strategy),
so running drift again for the same run writes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.config.settings import DriftSettings, severity_rank
from profilemesh.context import Context
from profilemesh.contract import DRIFT_EVENT_TYPES
from profilemesh.drift.history import RunMetrics, TableRun, completed_runs, load_metrics, run_exists
from profilemesh.drift.strategies import Finding, statistical, threshold
from profilemesh.errors import CheckFailed, DatabaseError, UsageError, first_line
from profilemesh.store import writes
from profilemesh.store.connect import connect
from profilemesh.store.handshake import require_writable
from profilemesh.store.tables import storage_table
from profilemesh.store.target import StorageTarget

DRIFT_METRICS = (
    "row_count",
    "null_percent",
    "distinct_percent",
    "distinct_percent_approx",
    "mean",
    "stddev",
    "min",
    "max",
    "mean_length",
)
LOCATION_METRICS = ("min", "max", "mean")
DATA_DRIFT, SCHEMA_CHANGE = DRIFT_EVENT_TYPES
EVENT_NAMESPACE = uuid.UUID("5b0f9d3e-6a57-4c1b-9a1e-70726f66696c")
STATISTICAL_HISTORY = 30


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
    written: int = 0

    def worst(self) -> str | None:
        return max((e.severity for e in self.events), key=severity_rank, default=None)

    def exit_code(self, fail_on: str | None) -> int:
        worst = self.worst()
        return 1 if fail_on and worst and severity_rank(worst) >= severity_rank(fail_on) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "baseline": self.baseline,
            "tables_checked": self.tables_checked,
            "events": [e.to_dict() for e in self.events],
            "written": self.written,
            "notes": self.notes,
        }


def detect(
    ctx: Context,
    *,
    table: str | None = None,
    current: str | None = None,
    baseline: str = "previous",
    write: bool = True,
    detected_at: dt.datetime | None = None,
) -> DriftReport:
    """detected_at (naive UTC): the events' timestamp instead of the clock, for programs that replay
    history (the quickstart's simulated days); created_at is always the time of writing."""
    settings, target = ctx.config.drift, ctx.target
    report = DriftReport(strategy=settings.strategy, baseline=baseline)
    schema_filter, _, table_filter = (table or "").rpartition(".")
    with connect(target, read_only=False) as conn:
        require_writable(conn, target, ctx.head)
        if current is not None and not run_exists(conn, target, current):
            raise CheckFailed(f"run {current} not found")
        if baseline not in ("previous", "moving_average") and not run_exists(conn, target, baseline):
            raise CheckFailed(f"baseline run {baseline} not found")
        by_table: dict[tuple[str | None, str], list[TableRun]] = defaultdict(list)
        for run in completed_runs(conn, target, table=table_filter or None, schema=schema_filter or None):
            by_table[(run.schema, run.table)].append(run)
        if table and not by_table:
            raise UsageError(f"no completed runs of table {table}")
        for key in sorted(by_table, key=lambda k: (k[0] or "", k[1])):
            _check_table(conn, target, by_table[key], current, baseline, settings, report)
        if write and report.events:
            report.written = _write_events(conn, target, report.events, detected_at)
    return report


def _check_table(
    conn: Connection,
    target: StorageTarget,
    runs: list[TableRun],
    current_id: str | None,
    baseline: str,
    settings: DriftSettings,
    report: DriftReport,
) -> None:
    name = f"{runs[0].schema}.{runs[0].table}" if runs[0].schema else runs[0].table
    positions = [i for i, r in enumerate(runs) if current_id is None or r.run_id == current_id]
    if not positions:
        return  # the table is not part of the requested run
    position = positions[-1]
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
        findings = _statistical_findings(current, history, settings, report, name)
        params["history_runs"] = len(history)
    else:
        findings = _threshold_findings(current, reference, settings)
    for (column, metric), finding in findings:
        report.events.append(_event(DATA_DRIFT, current, column or None, metric, finding, params))
    for event in _schema_changes(current, reference[-1], params):
        report.events.append(event)


def _threshold_findings(
    current: RunMetrics, reference: list[RunMetrics], settings: DriftSettings
) -> list[tuple[tuple[str, str], Finding]]:
    out = []
    for (column, metric), value in sorted(current.numbers.items()):
        if metric not in DRIFT_METRICS:
            continue
        values = [m.numbers[(column, metric)] for m in reference if (column, metric) in m.numbers]
        if not values:
            continue
        spreads = [m.numbers[(column, "stddev")] for m in reference if (column, "stddev") in m.numbers]
        spread = statistics.fmean(spreads) if metric in LOCATION_METRICS and spreads else None
        finding = threshold(metric, statistics.fmean(values), value, settings, spread)
        if finding:
            out.append(((column, metric), finding))
    return out


def _statistical_findings(
    current: RunMetrics, history: list[RunMetrics], settings: DriftSettings, report: DriftReport, name: str
) -> list[tuple[tuple[str, str], Finding]]:
    if len(history) < settings.min_history:
        report.notes.append(
            f"{name}: {len(history)} earlier run(s), the statistical strategy needs {settings.min_history}"
        )
        return []
    out = []
    for (column, metric), value in sorted(current.numbers.items()):
        if metric not in DRIFT_METRICS:
            continue
        values = [m.numbers[(column, metric)] for m in history if (column, metric) in m.numbers]
        if len(values) < settings.min_history:
            continue
        finding = statistical(metric, values, value, settings)
        if finding:
            out.append(((column, metric), finding))
    return out


def _schema_changes(current: RunMetrics, reference: RunMetrics, params: dict[str, Any]) -> list[DriftEvent]:
    events = []
    before, after = reference.column_types, current.column_types
    for column in sorted(set(before) | set(after)):
        if column not in after:
            change, severity = "column removed", "high"
        elif column not in before:
            change, severity = "column added", "low"
        elif before[column] != after[column]:
            change, severity = f"type changed from {before[column]} to {after[column]}", "medium"
        else:
            continue
        finding = Finding(severity, float("nan"), float("nan"), None, "schema", 0.0)
        event = _event(
            SCHEMA_CHANGE,
            current,
            column,
            None,
            finding,
            {**params, "change": change, "before": before.get(column), "after": after.get(column)},
        )
        events.append(event)
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
) -> int:
    table = storage_table(target, "events")
    ids = [e.event_id for e in events]
    existing = set(conn.execute(sa.select(table.c.event_id).where(table.c.event_id.in_(ids))).scalars())
    now = utc_now()
    rows = [
        {
            "event_id": e.event_id,
            "event_type": e.event_type,
            "run_id": e.run_id,
            "schema_name": e.schema,
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
    try:
        writes.insert(conn, target, "events", rows)
        conn.commit()
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        raise DatabaseError(
            f"writing drift events failed, none was written: {first_line(str(exc.orig or exc))}"
        ) from exc
    return len(rows)
