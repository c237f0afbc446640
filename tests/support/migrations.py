"""Migrations that tests add to a copy of the dbt package, numbered after the package's head so they
stay the next version whatever the head is."""

from __future__ import annotations

from pathlib import Path

from profilemesh.dbt.package import DbtPackage

HEAD = DbtPackage.installed().head
NEXT = HEAD + 1

BROKEN_STEPS = """
      {'id': 'add_note', 'op': 'add_column', 'table': 'runs', 'column': {'name': 'note', 'type': 'text'}},
      {'id': 'broken_backfill', 'op': 'backfill_float', 'table': 'runs', 'source': 'no_such_column',
       'target': 'note'},"""
TWO_COLUMNS_STEPS = """
      {'id': 'add_note', 'op': 'add_column', 'table': 'runs', 'column': {'name': 'note', 'type': 'text'}},
      {'id': 'add_owner', 'op': 'add_column', 'table': 'runs', 'column': {'name': 'owner', 'type': 'varchar(100)'}},"""
NOTE_STEPS = """
      {'id': 'add_note', 'op': 'add_column', 'table': 'runs', 'column': {'name': 'note', 'type': 'text'}},"""


def migration_source(steps: str, *, version: int = NEXT, description: str = "a test migration") -> str:
    return (
        f"{{% macro profilemesh_migration_{version:04d}() %}}\n"
        f"  {{%- do return({{'version': {version}, 'description': '{description}', 'steps': [{steps}\n"
        "  ]}) -%}\n"
        "{% endmacro %}\n"
    )


def add_migration(package: Path, slug: str, steps: str, *, version: int = NEXT, description: str = "") -> Path:
    """Write migration `version` (default: head + 1) into the package copy at `package`."""
    path = package / "dbt_profilemesh" / "macros" / "migrations" / f"V{version:04d}__{slug}.sql"
    path.write_text(migration_source(steps, version=version, description=description or slug.replace("_", " ")))
    return path
