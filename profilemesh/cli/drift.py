"""`profilemesh drift`: compare runs and write drift events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from profilemesh.cli.options import CONFIG, context, output_options
from profilemesh.cli.render import emit, render, to_table
from profilemesh.config.settings import GRADED_SEVERITIES

if TYPE_CHECKING:
    from profilemesh.drift.detector import DriftReport

TABLE_COLUMNS = ("severity", "state", "event", "table", "column", "metric", "baseline", "current", "change")


@click.command()
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
@output_options
def drift(
    config_path: str | None,
    table: str | None,
    current: str | None,
    baseline: str | None,
    fail_on: str | None,
    fmt: str,
    output: str | None,
) -> int:
    """Detect drift between runs and record each drift once, with its run_id."""
    from profilemesh.api import detect_drift

    report = detect_drift(context(config_path), table=table, current=current, baseline=baseline)
    rows = [e.to_dict() for e in report.events]
    emit(render(fmt, report, rows=rows, table=lambda: _text(report)), output)
    return report.exit_code(fail_on)


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
