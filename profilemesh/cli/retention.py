"""`profilemesh retention [plan|apply]`: a thin wrapper over profilemesh.retention."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from profilemesh.cli.options import CONFIG, LOCK_TIMEOUT, context, output_options
from profilemesh.cli.render import emit, render, table_cell, to_table

if TYPE_CHECKING:
    from profilemesh.retention.operation import RetentionReport

TABLE_COLUMNS = ("schema_name", "table_name", "runs", "results", "events", "runs_kept")


@click.command()
@click.argument("action", type=click.Choice(["plan", "apply"]), default="plan", required=False)
@CONFIG
@click.option(
    "--keep-days",
    type=int,
    required=True,
    help="Keep runs profiled in the last N days (older runs go unless another rule keeps them).",
)
@click.option(
    "--keep-runs-per-table",
    type=int,
    default=1,
    show_default=True,
    help="Always keep each table's newest N runs, however old.",
)
@click.option("--table", default=None, help="Only this table ([schema.]name).")
@click.option(
    "--batch-size", type=int, default=500, show_default=True, help="Runs per batch (each batch one transaction)."
)
@LOCK_TIMEOUT
@output_options
def retention(
    action: str,
    config_path: str | None,
    keep_days: int,
    keep_runs_per_table: int,
    table: str | None,
    batch_size: int,
    lock_timeout: float,
    fmt: str,
    output: str | None,
) -> int:
    """Delete old runs with their results and events. `plan` (the default) changes nothing and shows,
    per table, what `apply` would delete; `apply` deletes in batches under the migration lock.

    A run is kept when it is recent (--keep-days), among its table's newest --keep-runs-per-table,
    its table's newest completed run, still running, or named by profilemesh_table_state.
    """
    from profilemesh.api import retention as run_retention
    from profilemesh.retention import RetentionPolicy

    policy = RetentionPolicy(
        keep_days=keep_days, keep_runs_per_table=keep_runs_per_table, table=table, batch_size=batch_size
    )
    policy.validate()
    apply = action == "apply"
    progress = _progress if apply and fmt == "table" else None
    report = run_retention(context(config_path), policy, apply=apply, lock_timeout=lock_timeout, progress=progress)
    emit(render(fmt, report, rows=report.tables, columns=TABLE_COLUMNS, table=lambda: _text(report)), output)
    return 0


def _progress(batch: dict[str, Any]) -> None:
    what = "runs" if batch["kind"] == "runs" else batch["kind"].replace("_", " ")
    click.echo(f"batch {batch['batch']}: {batch['rows']} {what} deleted", err=True)


def _text(report: RetentionReport) -> str:
    verb = "would delete" if report.dry_run else "deleted"
    scope = f" of {report.table}" if report.table else ""
    head = (
        f"retention {'plan' if report.dry_run else 'apply'}{scope}: keep runs newer than "
        f"{table_cell(report.cutoff)} UTC ({report.keep_days} days) and each table's newest "
        f"{report.keep_runs_per_table}\n"
    )
    if not report.tables:
        return head + "no runs stored\n"
    totals = report.totals
    tail = f"{verb} {totals['runs']} runs, {totals['results']} results, {totals['events']} events"
    if not report.dry_run:
        tail += f" in {report.batches} batches"
    elif any(totals.values()):
        tail += "; run `profilemesh retention apply` with the same options to delete them"
    return head + to_table(TABLE_COLUMNS, report.tables) + tail + "\n"
