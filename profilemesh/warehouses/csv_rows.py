"""Rows as CSV for the warehouses' bulk-load paths (PostgreSQL COPY, DuckDB's staged file)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    """CSV where every value is quoted and NULL is the one unquoted empty field, so any text (empty,
    or holding quotes, commas, CR or LF) reads back exactly and is never confused with NULL."""
    return "".join(",".join(_field(value) for value in row) + "\n" for row in rows)


def _field(value: Any) -> str:
    return "" if value is None else '"' + str(value).replace('"', '""') + '"'
