"""Which tables a run profiles, and how it reads each: profiling.tables (or `--table` names) expanded
against the source's catalog."""

from __future__ import annotations

import dataclasses
import fnmatch

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.config import ConnectionConfig
from profilemesh.config.settings import ProfilingSettings, TableSelector, split_table_name
from profilemesh.errors import UsageError
from profilemesh.store.target import StorageTarget


def table_selectors(settings: ProfilingSettings, tables: list[str] | None) -> list[TableSelector]:
    """The config's selectors, or `--table` names; a named table is read as the config's selector for
    it says (its where, columns and sample), else with the top level's defaults."""
    if tables:
        selected = []
        for name in tables:
            schema, table = split_table_name(name)
            configured = next((s for s in settings.tables if s.matches(schema, table or "")), None)
            if configured is None:
                selected.append(TableSelector(schema=schema, table=table or "", scope=settings.scope))
            else:
                selected.append(dataclasses.replace(configured, schema=schema, table=table or ""))
        return selected
    return list(settings.tables)


def resolve_tables(
    conn: Connection, selectors: list[TableSelector], source: ConnectionConfig, target: StorageTarget
) -> list[tuple[str | None, str, TableSelector]]:
    """Selectors -> (schema, table, the selector that reads it), globs expanded against the catalog; a
    table that several selectors match is read as the first of them says. A glob never matches
    ProfileMesh's own relations: the storage tables and anything named profilemesh_* (ledger, lock,
    views) in the storage schema of the same database."""
    inspector = sa.inspect(conn)
    own_names = set(target.storage.table_names.values())

    def is_own(schema: str | None, name: str) -> bool:
        return (
            source.same_database(target.connection)
            and schema == target.schema
            and (name in own_names or name.startswith("profilemesh_"))
        )

    found: dict[tuple[str | None, str], TableSelector] = {}
    for selector in selectors:
        schema = selector.schema or source.schema
        named = f"{schema}.{selector.table}" if schema else selector.table
        if selector.is_pattern:
            if schema and not inspector.has_schema(schema):
                raise UsageError(f"table selector {named}: schema {schema} does not exist in the source")
            candidates = [*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)]
            # A table whose name holds glob characters (`t[1]`, `a*b`) still matches itself.
            matches = sorted(n for n in candidates if n == selector.table or fnmatch.fnmatchcase(n, selector.table))
            if not [m for m in matches if not is_own(schema, m)]:
                raise UsageError(f"table selector {named} matched no table or view in the source")
        else:
            matches = [selector.table]
        for name in matches:
            key = (schema, name)
            if key not in found and not (selector.is_pattern and is_own(schema, name)):
                found[key] = selector
    return [(schema, name, selector) for (schema, name), selector in found.items()]
