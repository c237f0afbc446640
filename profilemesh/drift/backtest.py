"""`profilemesh drift backtest`: replay each table's stored history with given drift settings and say
what the calibrated strategy would have raised, writing nothing. The same `replay` that `drift`
runs, so what the backtest shows is what `drift` would have done, run by run (accepted changes
included)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from profilemesh.config.drift_settings import DriftSettings, TableRules, severity_rank
from profilemesh.config.settings import split_table_name
from profilemesh.context import Context
from profilemesh.drift.accept import accepted_levels
from profilemesh.drift.calibrated import Key, replay
from profilemesh.drift.history import TableRun, completed_runs, load_history, same_scope
from profilemesh.errors import UsageError
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger_on
from profilemesh.store.state import StoreState


@dataclass
class BacktestAlarm:
    run_id: str
    profiled_at: dt.datetime
    column: str | None
    metric: str
    severity: str
    expected: float
    current: float


@dataclass
class TableBacktest:
    table: str
    runs: int  # runs replayed
    graded: int  # runs past the warm-up, in the --since range
    alarmed: int  # of those, runs with an alarm at medium or above that started on that run
    alarms: list[BacktestAlarm] = field(default_factory=list)
    by_metric: dict[str, int] = field(default_factory=dict)

    @property
    def per_100(self) -> float:
        return 100.0 * self.alarmed / self.graded if self.graded else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "runs": self.runs,
            "graded_runs": self.graded,
            "runs_alarmed": self.alarmed,
            "alarms_per_100_runs": round(self.per_100, 1),
            "by_metric": self.by_metric,
            "alarms": [a.__dict__ for a in self.alarms],
        }


@dataclass
class BacktestReport:
    settings: DriftSettings
    tables: list[TableBacktest] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        s = self.settings
        return {
            "settings": {
                "runs_per_false_alarm": s.runs_per_false_alarm,
                "history_window": s.history_window,
                "warmup_runs": s.warmup_runs,
                "seasonality": s.seasonality,
            },
            "tables": [t.to_dict() for t in self.tables],
        }


def backtest(
    ctx: Context, *, overrides: Mapping[str, Any] | None = None, table: str | None = None, since: dt.date | None = None
) -> BacktestReport:
    """Replay every table's completed runs (or `table`'s) with the calibrated strategy: the config's
    settings and per-table rules, then `overrides` (runs_per_false_alarm, history_window, warmup_runs,
    seasonality) over both. Alarms are counted on runs from `since` on (the runs before still build
    the baselines). Reads only."""
    target = ctx.target
    settings = dataclasses.replace(ctx.config.drift, strategy="calibrated", **(overrides or {}))
    schema_filter, table_filter = split_table_name(table)
    report = BacktestReport(settings)
    with connect(target) as conn:
        StoreState(read_ledger_on(conn, target), ctx.head, target.describe()).require_writable()
        by_table: dict[tuple[str | None, str], list[TableRun]] = defaultdict(list)
        for run in completed_runs(conn, target, table=table_filter, schema=schema_filter):
            by_table[(run.schema, run.table)].append(run)
        if table and not by_table:
            raise UsageError(f"no completed runs of table {table}")
        for key in sorted(by_table, key=lambda k: (k[0] or "", k[1])):
            name = f"{key[0]}.{key[1]}" if key[0] else key[1]
            runs, _ = same_scope(by_table[key], len(by_table[key]) - 1)  # what its latest run read
            history = load_history(conn, target, runs)
            table_settings, rules = settings.for_table(key[0], key[1])
            table_settings = dataclasses.replace(table_settings, **(overrides or {}))
            accepted = accepted_levels(conn, target, key[0], key[1])
            report.tables.append(_table(name, history, table_settings, rules, accepted, since))
    return report


def _table(
    name: str,
    history: list[Any],
    settings: DriftSettings,
    rules: TableRules,
    accepted: Mapping[Key, Collection[str]],
    since: dt.date | None,
) -> TableBacktest:
    result = TableBacktest(name, len(history), 0, 0)
    metrics: Counter[str] = Counter()
    for verdict in replay(history, settings, rules, accepted):
        run = verdict.run.run
        if verdict.warmup_left or (since is not None and run.profiled_at.date() < since):
            continue
        result.graded += 1
        paging = [i for i in verdict.new if severity_rank(i.alarm.severity) >= severity_rank("medium")]
        result.alarmed += bool(paging)
        for incident in verdict.new:
            alarm = incident.alarm
            column = alarm.column or None
            result.alarms.append(
                BacktestAlarm(
                    run.run_id, run.profiled_at, column, alarm.metric, alarm.severity, alarm.expected, alarm.current
                )
            )
            if incident in paging:
                metrics[f"{column or '(table)'}.{alarm.metric}"] += 1
    result.by_metric = dict(metrics.most_common())
    return result
