"""The rules for the names ProfileMesh creates: the storage schema and the storage table names.

Names of the tables ProfileMesh *profiles* may hold any character: they reach SQL only through
SQLAlchemy's quoting and as bound values. The storage schema and table names also pass through dbt,
whose relations and adapter macros put names between quotes without escaping a quote inside them,
so those names must not contain a quote character (or NUL, or a control character). Everything else
is allowed: semicolons, comment markers, spaces, unicode, reserved words, leading digits, mixed case.
Snowflake folds unquoted names and dbt-snowflake leaves relations unquoted, so there the names must
be plain identifiers. PostgreSQL truncates identifiers past 63 bytes, which would silently make two
names one, so longer names are refused there.
"""

from __future__ import annotations

import re

from profilemesh.errors import ConfigError

MAX_NAME_CHARS = 255
POSTGRES_MAX_BYTES = 63
_FORBIDDEN = re.compile(r"[\"'\x00-\x1f\x7f]")
_SNOWFLAKE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def storage_name_problem(name: str, dialect: str) -> str | None:
    """Why `name` cannot name a storage schema or table on `dialect`, or None when it can."""
    if not name:
        return "must not be empty"
    if len(name) > MAX_NAME_CHARS:
        return f"is {len(name)} characters long; the limit is {MAX_NAME_CHARS}"
    bad = _FORBIDDEN.search(name)
    if bad:
        return f"must not contain {bad.group()!r} (quote characters and control characters are not allowed)"
    if dialect == "postgres" and len(name.encode("utf-8")) > POSTGRES_MAX_BYTES:
        return f"is {len(name.encode('utf-8'))} bytes long; PostgreSQL's limit is {POSTGRES_MAX_BYTES} bytes"
    if dialect == "snowflake" and not _SNOWFLAKE_NAME.match(name):
        return "must be a plain identifier on Snowflake (letters, digits, _ and $, not starting with a digit)"
    return None


def check_storage_names(path: str | None, dialect: str, names: dict[str, str]) -> None:
    """Raise ConfigError for the first name (config key -> name) that breaks the rules."""
    for key, name in names.items():
        problem = storage_name_problem(name, dialect)
        if problem:
            raise ConfigError(path, key, f"{name!r} {problem}")
