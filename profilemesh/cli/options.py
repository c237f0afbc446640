"""Options shared by every command."""

from __future__ import annotations

import click

CONFIG = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default ./profilemesh.yml; without one, ./profilemesh.duckdb).",
)
