"""`profilemesh quickstart`: the demo on embedded DuckDB (profilemesh.quickstart does the work)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from profilemesh.cli.options import CliState
from profilemesh.quickstart.constants import DEFAULT_DIR


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=DEFAULT_DIR,
    show_default=True,
    help="Where to put the demo warehouse, the store and the config file.",
)
@click.pass_obj
def quickstart(state: CliState, directory: str) -> int:
    """Run the whole product on a demo warehouse: 14 simulated daily loads with injected incidents,
    profiled and checked for drift, then the query views built and tested with dbt.

    Running it again starts clean in the same directory (only the quickstart's own files are
    replaced); a non-empty directory that the quickstart did not make is refused.
    """
    from profilemesh.api import Context, query_drift, query_table
    from profilemesh.cli.query import DRIFT_TABLE_COLUMNS, history_text, page_text
    from profilemesh.quickstart.demo import run

    result = run(directory, echo=click.echo, debug=state.debug, hooks=state.hooks)
    config = _shown(result.config_path)
    ctx = Context.load(result.config_path, debug=state.debug, hooks=state.hooks)
    click.echo(f"done in {result.seconds:.1f} s\n")
    click.echo(f"$ profilemesh query drift -c {config}")
    events = query_drift(ctx)
    click.echo(page_text(events, DRIFT_TABLE_COLUMNS, "events", "no drift events found in the last 30 days"), nl=False)
    click.echo(f"\n$ profilemesh query table --table events --schema shop -c {config}")
    click.echo(history_text(query_table(ctx, "events", schema="shop"), "table"), nl=False)
    click.echo("\nInjected incidents:")
    for incident in result.incidents:
        where = f"{incident.table}.{incident.column}" if incident.column else incident.table
        click.echo(f"  day {incident.day:>2}: {incident.kind} in {where} ({incident.description})")
    click.echo(f"\nNext, try these with the config file it wrote ({config}):")
    for command in (
        "query runs --table orders",
        f"query run --run-id {result.last_run_id} --table customers",
        "query table --table orders --schema shop --format json",
        "query drift --severity high --format csv",
        "drift --baseline moving_average",
        "profile --dry-run",
        "migrate status",
    ):
        click.echo(f"  profilemesh {command} -c {config}")
    return 0


def _shown(path: Path) -> str:
    """The path relative to the working directory when it is below it, absolute otherwise; quoted
    for a shell when it needs to be, so the printed commands can be pasted."""
    relative = os.path.relpath(path)
    return shlex.quote(path.as_posix() if relative.startswith("..") else relative)
