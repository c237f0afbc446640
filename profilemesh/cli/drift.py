"""`profilemesh drift`: compare runs and write drift events."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import click

from profilemesh.cli.options import CONFIG, context, dbt_project_options, output_options
from profilemesh.cli.render import emit, render, to_table
from profilemesh.config.drift_settings import GRADED_SEVERITIES, SEASONALITIES
from profilemesh.drift import EVENT_ID_PREFIX
from profilemesh.errors import UsageError

if TYPE_CHECKING:
    from profilemesh.dbt.project import DbtSelection
    from profilemesh.drift.accept import Acceptance
    from profilemesh.drift.backtest import BacktestReport
    from profilemesh.drift.detector import DriftReport

TABLE_COLUMNS = (
    "severity", "state", "event", "table", "column", "metric", "baseline", "current", "change", "event_id"
)  # fmt: skip


@click.group(invoke_without_command=True)
@CONFIG
@click.option("--table", default=None, help="Only this table ([schema.]name).")
@click.option("--current", default=None, help="The run to check (default: each table's latest run).")
@click.option(
    "--baseline",
    default=None,
    help="threshold strategy: previous (default), moving_average, or a run id to compare with. The calibrated "
    "strategy (the default) compares with each table's history.",
)
@click.option(
    "--fail-on-drift",
    "fail_on",
    is_flag=False,
    flag_value="low",
    default=None,
    type=click.Choice(GRADED_SEVERITIES),
    help="Exit 1 when drift at or above this severity is found (alone: low).",
)
@click.option(
    "--notify",
    is_flag=True,
    help="Then send the new drift to the config's alert destinations, as `profilemesh alert` does.",
)
@dbt_project_options
@output_options
@click.pass_context
def drift(
    click_ctx: click.Context,
    config_path: str | None,
    table: str | None,
    current: str | None,
    baseline: str | None,
    fail_on: str | None,
    notify: bool,
    dbt_project: DbtSelection | None,
    fmt: str,
    output: str | None,
) -> int:
    """Detect drift between runs and record each drift once, with its run_id. With --notify, then send
    what is new to the alert destinations (docs/guides/alerts.md); exit 3 when a message could not be
    delivered.

    `drift accept EVENT_ID` records that a change is expected; `drift backtest` replays the stored
    history with given settings and writes nothing.

    With --project-dir, the drift overrides and owners in the dbt project's `profilemesh` meta apply
    (docs/guides/DBT.md)."""
    if click_ctx.invoked_subcommand is not None:
        return 0
    from profilemesh.api import detect_drift

    ctx = context(config_path, dbt_project)
    if notify and not ctx.config.alerts.destinations:
        raise UsageError("--notify needs alert destinations: add alerts.destinations to the config")
    report = detect_drift(ctx, table=table, current=current, baseline=baseline)
    rows = [e.to_dict() for e in report.events]
    emit(render(fmt, report, rows=rows, table=lambda: _text(report)), output)
    if not notify:
        return report.exit_code(fail_on)
    from profilemesh.api import alert
    from profilemesh.cli.alert import alert_text

    sent = alert(ctx)
    if fmt == "table" and output is None:
        click.echo(alert_text(sent), nl=False)
    return sent.exit_code or report.exit_code(fail_on)


def _text(report: DriftReport) -> str:
    text = ""
    if report.events:
        rows: list[dict[str, Any]] = [
            {
                "severity": e.severity,
                "state": e.metadata.get("state", "new"),
                "event": e.event_type,
                "table": f"{e.schema}.{e.table}" if e.schema else e.table,
                "column": e.column,
                "metric": e.metric or e.metadata.get("change", ""),
                "baseline": e.baseline,
                "current": e.current,
                "change": None if e.change_percent is None else f"{e.change_percent:+.1f}%",
                "event_id": e.event_id[:EVENT_ID_PREFIX],
            }
            for e in report.events
        ]
        text += to_table(TABLE_COLUMNS, rows)
    text += "".join(f"note: {note}\n" for note in report.notes)
    updated = f", {report.updated} incident(s) updated" if report.updated else ""
    failed = f"; latest run failed: {', '.join(report.failed_tables)}" if report.failed_tables else ""
    return text + (
        f"{len(report.events)} drift event(s) in {len(report.tables_checked)} table(s) "
        f"({report.strategy}, baseline {report.baseline}); {report.written} new event(s) written{updated}{failed}\n"
    )


@drift.command()
@CONFIG
@click.argument("event_id")
@click.option("--reason", default=None, help="Why the change is expected (stored with the acceptance).")
@click.option("--by", "accepted_by", default=None, help="Who accepts it (default: the operating-system user).")
@output_options
def accept(
    config_path: str | None, event_id: str, reason: str | None, accepted_by: str | None, fmt: str, output: str | None
) -> int:
    """Accept a drift event's change as expected: from its run on, the new level is the baseline, the
    incident ends, and `query drift` shows the acceptance. EVENT_ID: the whole id, or its first 8+
    characters (as `drift` and `query drift` print it)."""
    from profilemesh.api import drift_accept

    done = drift_accept(context(config_path), event_id, reason=reason, by=accepted_by)
    emit(render(fmt, done, table=lambda: _accepted_text(done)), output)
    return 0


def _accepted_text(done: Acceptance) -> str:
    what = ".".join(p for p in (done.table, done.column or "", done.metric or "") if p)
    if done.already:
        return (
            f"event {done.event_id} ({what}) was accepted already, at {done.accepted_at:%Y-%m-%d %H:%M:%S} "
            f"by {done.accepted_by or 'unknown'}: nothing changed\n"
        )
    reason = f" ({done.reason})" if done.reason else ""
    return (
        f"accepted event {done.event_id} ({what}, run {done.run_id}){reason}: from that run on, its new level "
        "is the baseline\n"
    )


BACKTEST_COLUMNS = ("table", "runs", "graded", "alarmed", "per_100", "top_metrics")


@drift.command()
@CONFIG
@click.option("--table", default=None, help="Only this table ([schema.]name).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Count alarms from DATE on.")
@click.option("--runs-per-false-alarm", type=click.IntRange(min=1), default=None, help="The false-alarm budget.")
@click.option("--history-window", type=click.IntRange(min=1), default=None, help="Clean runs in a baseline.")
@click.option("--warmup-runs", type=click.IntRange(min=1), default=None, help="Runs before full grading.")
@click.option("--seasonality", type=click.Choice(SEASONALITIES), default=None, help="The cycle to look for.")
@click.option("--alarms", "show_alarms", is_flag=True, help="List every alarm, not only the per-table summary.")
@output_options
def backtest(
    config_path: str | None,
    table: str | None,
    since: dt.datetime | None,
    runs_per_false_alarm: int | None,
    history_window: int | None,
    warmup_runs: int | None,
    seasonality: str | None,
    show_alarms: bool,
    fmt: str,
    output: str | None,
) -> int:
    """Replay each table's stored runs with the calibrated strategy and these settings (default: the
    config's): the alarms it would have raised, alarms per 100 runs, and the metrics behind them.
    Writes nothing."""
    from profilemesh.api import drift_backtest

    ctx = context(config_path)
    given: dict[str, Any] = {
        "runs_per_false_alarm": runs_per_false_alarm,
        "history_window": history_window,
        "warmup_runs": warmup_runs,
        "seasonality": seasonality,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    report = drift_backtest(ctx, overrides=overrides, table=table, since=since.date() if since else None)
    if show_alarms:
        rows = [{"table": t.table, **a.__dict__} for t in report.tables for a in t.alarms]
    else:
        rows = [t.to_dict() for t in report.tables]
    emit(render(fmt, report, rows=rows, table=lambda: _backtest_text(report, show_alarms)), output)
    return 0


def _backtest_text(report: BacktestReport, show_alarms: bool) -> str:
    if show_alarms:
        alarms = [
            {"table": t.table, "run": a.run_id, "profiled_at": a.profiled_at, "column": a.column, "metric": a.metric,
             "severity": a.severity, "expected": a.expected, "current": a.current}
            for t in report.tables
            for a in t.alarms
        ]  # fmt: skip
        columns = ("table", "run", "profiled_at", "column", "metric", "severity", "expected", "current")
        return to_table(columns, alarms) if alarms else "no alarms\n"
    rows = [
        {"table": t.table, "runs": t.runs, "graded": t.graded, "alarmed": t.alarmed, "per_100": f"{t.per_100:.1f}",
         "top_metrics": ", ".join(f"{m} x{n}" for m, n in list(t.by_metric.items())[:3])}
        for t in report.tables
    ]  # fmt: skip
    s = report.settings
    return to_table(BACKTEST_COLUMNS, rows) + (
        f"runs alarmed at medium or above per table (graded: past the warm-up); budget 1 in "
        f"{s.runs_per_false_alarm}, window {s.history_window}, warm-up {s.warmup_runs}, seasonality {s.seasonality}; "
        "nothing was written\n"
    )
