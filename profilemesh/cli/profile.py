"""`profilemesh profile`: profile the configured tables into one run."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from profilemesh.cli.options import CONFIG, context, dbt_project_options, output_options
from profilemesh.cli.render import emit, render, to_table
from profilemesh.errors import UsageError

if TYPE_CHECKING:
    from profilemesh.dbt.project import DbtSelection
    from profilemesh.profiling.outcomes import ProfileReport

TABLE_COLUMNS = (
    "schema",
    "table",
    "bucket",
    "status",
    "row_count",
    "column_count",
    "metric_count",
    "query_count",
    "seconds",
    "dbt_unique_id",
    "note",
)


@click.command()
@CONFIG
@click.option("--table", "tables", multiple=True, help="Profile only this table ([schema.]name; repeatable).")
@click.option("--dry-run", is_flag=True, help="Show the plan (tables, columns, queries, SQL); write nothing.")
@click.option(
    "--since",
    metavar="DATE",
    default=None,
    help="Backfill: profile every bucket of the tables with granularity from DATE (YYYY-MM-DD) on, one point each.",
)
@dbt_project_options
@output_options
def profile(
    config_path: str | None,
    tables: tuple[str, ...],
    dry_run: bool,
    since: str | None,
    dbt_project: DbtSelection | None,
    fmt: str,
    output: str | None,
) -> int:
    """Profile tables into a run: one runs row per table, its metrics in results.

    With --project-dir, the tables are the dbt project's models, seeds, snapshots and sources that dbt
    selects (-s/--exclude, dbt's syntax), each read as its `profilemesh` meta says and recorded with its
    dbt unique id (docs/guides/DBT.md).

    Exits 1 if any table failed (its error is recorded; the other tables' results are kept).
    """
    from profilemesh.api import profile as run_profile
    from profilemesh.profiling.buckets import parse_since

    if tables and dbt_project is not None:
        raise UsageError("give --table or --project-dir, not both (select dbt nodes with -s/--select)")

    show_progress = sys.stderr.isatty() and fmt == "table"

    def progress(name: str, position: int, total: int) -> None:
        if show_progress:
            click.echo(f"\r[{position}/{total}] {name[:60]:<60}", err=True, nl=False)

    backfill = parse_since(since) if since is not None else None
    try:
        report = run_profile(
            context(config_path, dbt_project), tables=tables, dry_run=dry_run, progress=progress, since=backfill
        )
    finally:
        if show_progress:  # end the progress line, also before an error's line
            click.echo("", err=True)
    rows = [t.to_dict() for t in report.tables]
    emit(render(fmt, report, rows=rows, table=lambda: _text(report)), output)
    return report.exit_code


def _text(report: ProfileReport) -> str:
    if report.dry_run:
        lines = [f"-- dry run: {len(report.tables)} table(s), nothing written"]
        for outcome in report.tables:
            queries = f"{outcome.query_count} quer{'y' if outcome.query_count == 1 else 'ies'}"
            lines.append(f"-- {outcome.schema}.{outcome.table}: {outcome.column_count} column(s), {queries}")
            lines += [statement.strip() + ";" for statement in outcome.statements]
        return "\n".join(lines) + "\n"
    rows = [
        {
            "schema": t.schema,
            "table": t.table,
            "bucket": t.bucket,
            "status": t.status,
            "row_count": t.row_count,
            "column_count": t.column_count,
            "metric_count": t.metric_count,
            "query_count": t.query_count,
            "seconds": "" if t.duration_seconds is None else f"{t.duration_seconds:.3f}",
            "dbt_unique_id": t.dbt_unique_id,
            "note": t.error or "; ".join(t.notes),
        }
        for t in report.tables
    ]
    failed = len(report.failed)
    profiled = {(t.schema, t.table) for t in report.tables if t.status not in ("failed", "up_to_date")}
    buckets = sum(1 for t in report.tables if t.bucket)
    per_bucket = f" ({buckets} bucket(s), each its own run id)" if buckets else ""
    summary = f"run {report.run_id}: {len(profiled)} table(s) profiled{per_bucket}, {failed} failed\n"
    columns: tuple[str, ...] = TABLE_COLUMNS
    if not any(t.dbt_unique_id for t in report.tables):  # a run of profilemesh.yml's tables
        columns = tuple(c for c in columns if c != "dbt_unique_id")
    if not any(t.bucket for t in report.tables):
        columns = tuple(c for c in columns if c != "bucket")
    return to_table(columns, rows) + summary
