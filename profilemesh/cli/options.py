"""The options commands share, declared once, and the Context a command works in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from profilemesh.cli.render import FORMATS
from profilemesh.hooks import NO_HOOKS, Hooks
from profilemesh.store import DEFAULT_LOCK_TIMEOUT

if TYPE_CHECKING:
    from profilemesh.context import Context

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
LOCK_TIMEOUT = click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the migration lock (or a busy DuckDB file).",
)


def output_options(command: F) -> F:
    """--format and -o/--output: every command renders through cli/render.py."""
    return FORMAT(OUTPUT(command))


def context(config_path: str | None) -> Context:
    """The Context for this invocation: the config file, --debug, and the launcher's hooks."""
    from profilemesh.context import Context  # loads SQLAlchemy: only once a command runs

    state = click.get_current_context().find_object(CliState) or CliState()
    return Context.load(config_path, debug=state.debug, hooks=state.hooks)
