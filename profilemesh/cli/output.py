"""Rendering for the CLI: JSON with ISO-8601 UTC timestamps, and tables through tabulate."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterable, Sequence
from typing import Any

from tabulate import tabulate


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # The store holds naive UTC (the engine writes UTC); say so explicitly.
        if value.tzinfo is None:
            return value.isoformat() + "Z"
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)


def to_json(data: Any) -> str:
    return json.dumps(data, default=_json_default, indent=2, ensure_ascii=False)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    return tabulate([[cell(v) for v in row] for row in rows], headers=list(headers), tablefmt="simple")


def fields(rows: Iterable[tuple[str, Any]]) -> str:
    """Key/value lines, aligned."""
    return tabulate([[key, cell(value)] for key, value in rows], tablefmt="plain")
