"""Output of `profilemesh query`: table (tabulate), JSON, NDJSON and CSV (the csv module).

- Timestamps: the store holds naive UTC, written as ISO-8601 with a `Z` in JSON, NDJSON and CSV.
- NULL is `null` in JSON and an empty cell in CSV and tables; 0 stays 0 everywhere.
- JSON has no NaN or Infinity: such floats are written as null (CSV and tables keep them).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

FORMATS = ("table", "json", "csv", "ndjson")
_SPARK = "▁▂▃▄▅▆▇█"


def iso_utc(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def json_value(value: Any) -> Any:
    """A value as JSON can hold it, without losing what it is."""
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    return json_value(data)


def to_json(data: Any) -> str:
    return json.dumps(_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_ndjson(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(_jsonable(row), ensure_ascii=False, allow_nan=False) + "\n" for row in rows)


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    return value


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def table_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def to_table(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    from tabulate import tabulate

    rows = list(rows)
    body = [[table_cell(row.get(c)) for c in columns] for row in rows]
    # Text is never parsed as a number (a run id "1e5" stays "1e5"); real numbers align right.
    align = ["right" if _numeric(row.get(c) for row in rows) else "left" for c in columns]
    return tabulate(body, headers=list(columns), tablefmt="simple", disable_numparse=True, colalign=align) + "\n"


def _numeric(values: Iterable[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool) for v in present
    )


def to_fields(pairs: Iterable[tuple[str, Any]]) -> str:
    from tabulate import tabulate

    return tabulate([[k, table_cell(v)] for k, v in pairs], tablefmt="plain", disable_numparse=True) + "\n"


def sparkline(values: Sequence[float | int | None]) -> str:
    """One character per value, scaled between the smallest and the largest; a gap for NULL."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
        elif span == 0:
            chars.append(_SPARK[len(_SPARK) // 2])
        else:
            chars.append(_SPARK[round((value - low) / span * (len(_SPARK) - 1))])
    return "".join(chars)
