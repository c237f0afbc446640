"""`profilemesh report`: a thin wrapper over profilemesh.api.report (the HTML page is its output file)."""

from __future__ import annotations

import click

from profilemesh.cli.options import CONFIG, context


@click.command()
@CONFIG
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="report.html",
    show_default=True,
    help="The HTML file to write (self-contained: open it, mail it, serve it from any static host).",
)
@click.option(
    "--table",
    "tables",
    multiple=True,
    help="Only this table ([schema.]name); repeat for several. Default: every table with runs in the window.",
)
@click.option(
    "--days", type=click.IntRange(min=0), default=30, show_default=True, help="Look back N days (0: all history)."
)
def report(config_path: str | None, output: str, tables: tuple[str, ...], days: int) -> int:
    """One HTML page: runs and their cost, each table's health, metric trends with drift marked, schema changes.

    The charts are plotly.js, inlined once in the file: nothing is fetched when it is made or viewed."""
    from profilemesh.api import report as write_report

    result = write_report(context(config_path), output, tables=tables, days=days)
    if result.warning:
        click.echo(result.warning, err=True)
    size = f"{result.bytes / 1_000_000:.1f} MB"
    click.echo(
        f"wrote {result.path}: {result.tables} table{'s' if result.tables != 1 else ''}, {result.runs} runs, "
        f"{result.drift_events} drift events, {result.schema_changes} schema changes ({size}, {result.seconds:.1f} s)"
    )
    for line in result.unhealthy:
        click.echo(f"  needs a look: {line}")
    return 0
