"""Each table's health and trend data, from its history: plain, JSON-ready data aligned on the table's
runs (one x value per run; a series holds None where a run did not record the metric). plotly.js draws
it in the page; nothing here knows HTML."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from profilemesh.contract import DRIFT_EVENT_TYPES, SEVERITIES
from profilemesh.report.history import NOT_CHARTED, StoreHistory, TableHistory

DATA_DRIFT, SCHEMA_CHANGE = DRIFT_EVENT_TYPES
# Shown first, in this order; other numeric metrics follow by name (history.NOT_CHARTED: the counts
# behind a percentage, charted only when a drift event names them).
METRIC_ORDER = ("null_percent", "distinct_percent", "mean", "stddev", "min", "max", "mean_length", "max_length")
RANK = {s: i for i, s in enumerate(SEVERITIES)}
# The health a table is given, worst first: the order of the page's table index.
HEALTH_ORDER = ("failed", "high", "medium", "low", "ok", "no runs")


@dataclass
class RunRow:
    """One run of the overview (a run may profile several tables)."""

    run_id: str
    profiled_at: dt.datetime
    tables: int
    status: str
    seconds: float
    metrics: int
    events: int


@dataclass
class TableFigure:
    anchor: str
    label: str
    health: str
    last_run: dict[str, Any] | None
    runs: int
    seconds: float
    events: list[dict[str, Any]]  # data drift, newest first, for the page's list
    schema_changes: list[dict[str, Any]]  # newest first
    severity_counts: dict[str, int]
    chart: dict[str, Any] = field(default_factory=dict)  # the data plotly.js draws


@dataclass
class ReportFigures:
    tables: list[TableFigure]
    runs: list[RunRow]  # newest first
    daily: dict[str, list[Any]]  # per day: runs, seconds, failed (the overview chart)
    totals: dict[str, Any]


def build(history: StoreHistory) -> ReportFigures:
    tables = [_table(i, t, history.chart_runs) for i, t in enumerate(history.tables)]
    tables.sort(key=lambda t: (HEALTH_ORDER.index(t.health), t.label))
    runs = _runs(history)
    totals = {
        "tables": len(tables),
        "runs": len(runs),
        "table_runs": sum(t.runs for t in tables),
        "seconds": round(sum(r.seconds for r in runs), 3),
        "failed": sum(1 for r in runs if r.status != "completed"),
        "drift": Counter(e["drift_severity"] for t in tables for e in t.events),
        "drift_events": sum(len(t.events) for t in tables),
        "schema_changes": sum(len(t.schema_changes) for t in tables),
        "health": Counter(t.health for t in tables),
    }
    return ReportFigures(tables, runs, _daily(runs), totals)


def _table(index: int, table: TableHistory, chart_runs: int) -> TableFigure:
    drift = [e for e in table.events if e["event_type"] == DATA_DRIFT]
    schema = [_schema_change(e) for e in table.events if e["event_type"] == SCHEMA_CHANGE]
    counts = Counter(e["drift_severity"] for e in drift if e["accepted_at"] is None)
    last = table.runs[-1] if table.runs else None
    if last is None:
        health = "no runs"
    elif last["status"] != "completed":
        health = "failed"
    else:
        open_severities = [s for s in counts if s in RANK and RANK[s] > 0]
        health = max(open_severities, key=RANK.__getitem__) if open_severities else "ok"
    return TableFigure(
        anchor=f"table-{index}",
        label=table.label,
        health=health,
        last_run=last,
        runs=len(table.runs),
        seconds=round(sum(r["duration_seconds"] or 0.0 for r in table.runs), 3),
        events=list(reversed(drift)),
        schema_changes=list(reversed(schema)),
        severity_counts=dict(counts),
        chart=_chart(table, drift, chart_runs),
    )


def _schema_change(event: dict[str, Any]) -> dict[str, Any]:
    details = _metadata(event["metadata"])
    return {**event, "change": details.get("change") or "schema changed"}


def _metadata(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _chart(table: TableHistory, drift: list[dict[str, Any]], chart_runs: int) -> dict[str, Any]:
    """The table's latest `chart_runs` runs on x (minutes since the epoch, UTC); its row count and each
    run's seconds; per column (those with drift first, then by name), each metric's series with the
    runs where drift was recorded on it."""
    runs = table.runs[-chart_runs:] if chart_runs else []
    index = {run["run_id"]: i for i, run in enumerate(runs)}
    marks: dict[tuple[str | None, str | None], list[list[Any]]] = {}
    for event in drift:
        i = index.get(event["run_id"])
        if i is not None:
            marks.setdefault((event["column_name"], event["metric_name"]), []).append([i, event["drift_severity"]])
    columns: list[dict[str, Any]] = []
    for column in sorted(table.metrics):
        by_metric = table.metrics[column]
        names = [m for m in METRIC_ORDER if m in by_metric]
        names += sorted(
            m for m in by_metric if m not in METRIC_ORDER and (m not in NOT_CHARTED or (column, m) in marks)
        )
        series: list[dict[str, Any]] = []
        for metric in names:
            values = by_metric[metric]
            y = [_short(values.get(run["run_id"])) for run in runs]
            series.append({"m": metric, "y": y, "d": marks.get((column, metric), [])})
        columns.append({"name": column, "series": series})
    columns.sort(key=lambda c: not any(s["d"] for s in c["series"]))  # columns with drift first (stable)
    table_marks = [mark for (column, _), found in marks.items() if column is None for mark in found]
    return {
        "x": [_epoch_minutes(run["profiled_at"]) for run in runs],
        "rows": [run["row_count"] for run in runs],
        "seconds": [_short(run["duration_seconds"]) for run in runs],
        "failed": [i for i, run in enumerate(runs) if run["status"] != "completed"],
        "d": table_marks,
        "shown": len(runs),
        "of": len(table.runs),
        "columns": columns,
    }


EPOCH = dt.datetime(1970, 1, 1)


def _epoch_minutes(value: dt.datetime) -> int:
    """A naive-UTC time as whole minutes since the epoch: 8 digits in the file instead of an ISO string."""
    return int((value.replace(tzinfo=None) - EPOCH).total_seconds() // 60)


def _short(value: float | None) -> float | int | None:
    """Four significant digits (an integer when whole): what a trend line can show, at a fraction of
    the file size."""
    if value is None or not math.isfinite(value):  # a gap in the line for NULL, NaN and infinities
        return None
    short = float(f"{value:.4g}")
    return int(short) if short.is_integer() and abs(short) < 1e15 else short


def _runs(history: StoreHistory) -> list[RunRow]:
    runs: dict[str, RunRow] = {}
    events = Counter(e["run_id"] for t in history.tables for e in t.events if e["event_type"] == DATA_DRIFT)
    for table in history.tables:
        for run in table.runs:
            row = runs.get(run["run_id"])
            if row is None:
                row = runs[run["run_id"]] = RunRow(run["run_id"], run["profiled_at"], 0, "completed", 0.0, 0, 0)
                row.events = events.get(run["run_id"], 0)
            row.tables += 1
            row.seconds += run["duration_seconds"] or 0.0
            row.metrics += run["metric_count"] or 0
            if run["status"] != "completed":
                row.status = run["status"]
    return sorted(runs.values(), key=lambda r: (r.profiled_at, r.run_id), reverse=True)


def _daily(runs: list[RunRow]) -> dict[str, list[Any]]:
    days: dict[dt.date, list[float]] = {}
    for run in runs:
        day = days.setdefault(run.profiled_at.date(), [0, 0.0, 0, 0])
        day[0] += 1
        day[1] += run.seconds
        day[2] += run.status != "completed"
        day[3] += run.events
    ordered = sorted(days.items())
    return {
        "x": [d.isoformat() for d, _ in ordered],
        "runs": [int(v[0]) for _, v in ordered],
        "seconds": [round(v[1], 3) for _, v in ordered],
        "failed": [int(v[2]) for _, v in ordered],
        "drift": [int(v[3]) for _, v in ordered],
    }
