"""`profilemesh profile`: profile the configured tables into one run."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from profilemesh.cli.options import CONFIG
from profilemesh.cli.output import table, to_json


@click.command()
@CONFIG
@click.option("--table", "tables", multiple=True, help="Profile only this table ([schema.]name; repeatable).")
@click.option("--dry-run", is_flag=True, help="Show the plan (tables, columns, queries, SQL); write nothing.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Also write the run report as JSON to this file.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def profile(config_path: str | None, tables: tuple[str, ...], dry_run: bool, output: str | None, fmt: str) -> int:
    """Profile tables into a run: one runs row per table, its metrics in results.

    Exits 1 if any table failed (its error is recorded; the other tables' results are kept).
    """
    from profilemesh.config import load_config
    from profilemesh.profiling.runner import profile as run_profile

    config = load_config(config_path)
    show_progress = sys.stderr.isatty() and fmt == "table"

    def progress(name: str, position: int, total: int) -> None:
        if show_progress:
            click.echo(f"\r[{position}/{total}] {name[:60]:<60}", err=True, nl=False)

    report = run_profile(config, tables=list(tables) or None, dry_run=dry_run, progress=progress)
    if show_progress:
        click.echo("", err=True)
    data = report.to_dict()
    if output:
        Path(output).write_text(to_json(data) + "\n", encoding="utf-8")
    if fmt == "json":
        click.echo(to_json(data))
        return report.exit_code
    if dry_run:
        click.echo(f"-- dry run: {len(report.tables)} table(s), nothing written")
        for outcome in report.tables:
            click.echo(
                f"-- {outcome.schema}.{outcome.table}: {outcome.column_count} column(s), "
                f"{outcome.query_count} quer{'y' if outcome.query_count == 1 else 'ies'}"
            )
            for statement in outcome.statements:
                click.echo(statement.strip() + ";")
        return 0
    rows = [
        (
            t.schema,
            t.table,
            t.status,
            t.row_count,
            t.column_count,
            t.metric_count,
            t.query_count,
            f"{t.duration_seconds:.3f}",
            t.error or "; ".join(t.notes),
        )
        for t in report.tables
    ]
    click.echo(table(rows, ["schema", "table", "status", "rows", "columns", "metrics", "queries", "seconds", "note"]))
    failed = len(report.failed)
    click.echo(f"run {report.run_id}: {len(report.tables) - failed} table(s) profiled, {failed} failed")
    return report.exit_code
