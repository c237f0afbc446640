"""The rules for the names ProfileMesh creates: the storage schema and the storage table names.

Names of the tables ProfileMesh *profiles* may hold any character: they reach SQL only through
SQLAlchemy's quoting and as bound values. The storage schema and table names also pass through dbt,
whose relations and adapter macros put names between quotes without escaping a quote inside them,
so those names must not contain a quote character (or NUL, or a control character). Everything else
is allowed: semicolons, comment markers, spaces, unicode, reserved words, leading digits, mixed case.
Each warehouse adds its own rule (warehouses/: PostgreSQL's 63-byte limit, Snowflake's plain
identifiers).
"""

from __future__ import annotations

import re

from profilemesh.errors import ConfigError
from profilemesh.warehouses import warehouse_for
from profilemesh.warehouses.base import MAX_NAME_CHARS

_FORBIDDEN = re.compile(r"[\"'\x00-\x1f\x7f]")


def storage_name_problem(name: str, warehouse_type: str) -> str | None:
    """Why `name` cannot name a storage schema or table on that warehouse, or None when it can."""
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_CHARS:
        return f"is {len(name)} characters long; the limit is {MAX_NAME_CHARS}"
    bad = _FORBIDDEN.search(name)
    if bad:
        return f"must not contain {bad.group()!r} (quote characters and control characters are not allowed)"
    return warehouse_for(warehouse_type).name_problem(name)


def check_storage_names(path: str | None, warehouse_type: str, names: dict[str, str]) -> None:
    """Raise ConfigError for the first name (config key -> name) that breaks the rules."""
    for key, name in names.items():
        problem = storage_name_problem(name, warehouse_type)
        if problem:
            raise ConfigError(path, key, f"{name!r} {problem}")
