"""The options commands share, declared once, and the Context a command works in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from profilemesh.cli.render import FORMATS
from profilemesh.hooks import NO_HOOKS, Hooks
from profilemesh.store import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from profilemesh.context import Context
    from profilemesh.dbt.project import DbtSelection

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CliState:
    """What the `profilemesh` group hands its commands: --debug, and the hooks a launcher passed."""

    debug: bool = False
    hooks: Hooks = NO_HOOKS


CONFIG = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default ./profilemesh.yml; without one, ./profilemesh.duckdb).",
)
FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format (ndjson: one JSON object per line).",
)
OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the output to FILE instead of stdout (exactly what the format produces).",
)


def lock_timeout_option(help: str) -> Callable[[F], F]:
    """--lock-timeout: how long a command waits for a lock, in seconds (the default is the store's)."""
    return click.option(
        "--lock-timeout", type=click.FloatRange(min=0), default=DEFAULT_LOCK_TIMEOUT, show_default=True, help=help
    )


LOCK_TIMEOUT = lock_timeout_option("Seconds to wait for the migration lock (or a busy DuckDB file).")


def output_options(command: F) -> F:
    """--format and -o/--output: every command renders through cli/render.py."""
    return FORMAT(OUTPUT(command))


_DBT_PROJECT_OPTIONS = (
    click.option(
        "--project-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="A dbt project: profile (or apply the settings of) the nodes dbt selects, with their meta.",
    ),
    click.option(
        "-s",
        "--select",
        multiple=True,
        help="dbt node selection, as dbt's --select (tag:daily, source:shop+, path:models/marts; repeatable).",
    ),
    click.option("--exclude", multiple=True, help="dbt nodes to leave out, as dbt's --exclude (repeatable)."),
    click.option(
        "--profiles-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Where the dbt project's profiles.yml is (default: dbt's: $DBT_PROFILES_DIR, ./, ~/.dbt).",
    ),
    click.option("--dbt-target", default=None, help="The dbt target (default: the profile's own)."),
)


def dbt_project_options(command: F) -> F:
    """--project-dir, -s/--select, --exclude, --profiles-dir and --dbt-target, handed to the command as
    one `dbt_project` argument (a DbtSelection, or None without --project-dir)."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        project_dir: str | None,
        select: tuple[str, ...],
        exclude: tuple[str, ...],
        profiles_dir: str | None,
        dbt_target: str | None,
        **kwargs: Any,
    ) -> Any:
        from profilemesh.dbt.project import DbtSelection
        from profilemesh.errors import UsageError

        selection = None
        if project_dir is not None:
            selection = DbtSelection(
                Path(project_dir), select, exclude, Path(profiles_dir) if profiles_dir else None, dbt_target
            )
        elif select or exclude or profiles_dir or dbt_target:
            raise UsageError("--select, --exclude, --profiles-dir and --dbt-target need --project-dir")
        return command(*args, dbt_project=selection, **kwargs)

    decorated: Any = wrapper
    for option in reversed(_DBT_PROJECT_OPTIONS):
        decorated = option(decorated)
    return decorated


def context(config_path: str | None, dbt_project: DbtSelection | None = None) -> Context:
    """The Context for this invocation: the config file, --debug, and the launcher's hooks; with a dbt
    project, its selected nodes and their settings (what merging them reported goes to stderr)."""
    from profilemesh.context import Context  # loads SQLAlchemy: only once a command runs

    state = click.get_current_context().find_object(CliState) or CliState()
    ctx = Context.load(config_path, debug=state.debug, hooks=state.hooks)
    if dbt_project is None:
        return ctx
    ctx = ctx.with_dbt_project(dbt_project)
    for line in ctx.notices:
        click.echo(line, err=True)
    return ctx
