"""`profilemesh monitor`: a metadata pass over whole schemas (freshness and volume, no table scanned)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from profilemesh.cli.options import CONFIG, context, output_options
from profilemesh.cli.render import emit, render, to_table

if TYPE_CHECKING:
    from profilemesh.monitor.runner import MonitorReport

TABLE_COLUMNS = ("schema", "table", "status", "row_count", "rows_added", "freshness_hours", "changed", "note")


@click.command()
@CONFIG
@click.option("--schema", "schemas", multiple=True, help="Watch the schemas matching this glob (repeatable).")
@click.option("--table", "tables", multiple=True, help="Watch only tables matching this glob (repeatable).")
@click.option("--exclude", multiple=True, help="Skip tables matching this glob, name or schema.name (repeatable).")
@output_options
def monitor(
    config_path: str | None,
    schemas: tuple[str, ...],
    tables: tuple[str, ...],
    exclude: tuple[str, ...],
    fmt: str,
    output: str | None,
) -> int:
    """Read the warehouse's catalog once for whole schemas and store each table's row count, rows added
    and freshness as a run (no table is scanned); `drift` grades them. The options replace the
    config's `monitor` globs.

    Exits 1 if a table watched by the previous pass was dropped (recorded as a failed table).
    """
    from profilemesh.api import monitor as run_monitor

    report = run_monitor(context(config_path), schemas=schemas, tables=tables, exclude=exclude)
    rows = [t.to_dict() for t in report.tables]
    emit(render(fmt, report, rows=rows, table=lambda: _text(report)), output)
    return report.exit_code


def _text(report: MonitorReport) -> str:
    rows = [{**t.to_dict(), "note": t.error} for t in report.tables]
    failed = len(report.failed)
    summary = (
        f"run {report.run_id}: {len(report.tables) - failed} table(s) read from {report.source} in "
        f"{report.seconds:.3f} s ({len(report.schemas)} schema(s)), {failed} dropped\n"
    )
    return to_table(TABLE_COLUMNS, rows) + summary
