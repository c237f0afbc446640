"""`profilemesh drift`: compare runs and write drift events."""

from __future__ import annotations

import click

from profilemesh.cli import output
from profilemesh.cli.options import CONFIG


@click.command()
@CONFIG
@click.option("--table", default=None, help="Only this table ([schema.]name).")
@click.option("--current", default=None, help="The run to check (default: each table's latest run).")
@click.option(
    "--baseline", default="previous", show_default=True, help="previous, moving_average, or a run id to compare with."
)
@click.option(
    "--fail-on-drift",
    "fail_on",
    is_flag=False,
    flag_value="low",
    default=None,
    type=click.Choice(["low", "medium", "high"]),
    help="Exit 1 when drift at or above this severity is found (alone: low).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def drift(
    config_path: str | None, table: str | None, current: str | None, baseline: str, fail_on: str | None, fmt: str
) -> int:
    """Detect drift between runs and record each drift once, with its run_id."""
    from profilemesh.config import load_config
    from profilemesh.drift.detector import detect

    report = detect(load_config(config_path), table=table, current=current, baseline=baseline)
    if fmt == "json":
        click.echo(output.to_json(report.to_dict()))
        return report.exit_code(fail_on)
    if report.events:
        rows = [
            (
                e.severity,
                e.event_type,
                f"{e.schema}.{e.table}" if e.schema else e.table,
                e.column or "",
                e.metric or e.metadata.get("change", ""),
                _num(e.baseline),
                _num(e.current),
                "" if e.change_percent is None else f"{e.change_percent:+.1f}%",
            )
            for e in report.events
        ]
        click.echo(
            output.table(rows, ["severity", "event", "table", "column", "metric", "baseline", "current", "change"])
        )
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"{len(report.events)} drift event(s) in {len(report.tables_checked)} table(s) "
        f"({report.strategy}, baseline {report.baseline}); {report.written} new event(s) written"
    )
    return report.exit_code(fail_on)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
