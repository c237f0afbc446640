"""The one renderer of the CLI: every command's result as a table (tabulate), JSON, NDJSON or CSV (the
csv module), chosen by the one `--format` option (options.py).

- Timestamps: the store holds naive UTC, written as ISO-8601 with a `Z` in JSON, NDJSON and CSV.
- NULL is `null` in JSON and an empty cell in CSV and tables; 0 stays 0 everywhere.
- JSON has no NaN or Infinity: such floats are written as null (CSV and tables keep them).
- A record that is not a list (a status, a report) is one NDJSON line and one CSV row; a nested value
  in a CSV cell is JSON.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from profilemesh.clock import iso_utc
from profilemesh.errors import UsageError

FORMATS = ("table", "json", "csv", "ndjson")
_SPARK = "▁▂▃▄▅▆▇█"
Row = dict[str, Any]


def render(
    fmt: str,
    data: Any,
    *,
    table: Callable[[], str],
    rows: Sequence[Row] | None = None,
    columns: Sequence[str] | None = None,
) -> str:
    """`data` in the chosen format: JSON is `data` whole; NDJSON and CSV are `rows` (default: `data` as
    one row) with `columns` (default: the first row's keys); the table is the command's own text."""
    if fmt == "json":
        return to_json(data)
    if fmt == "table":
        return table()
    records = list(rows) if rows is not None else [as_data(data)]
    if fmt == "ndjson":
        return to_ndjson(records)
    return to_csv(columns or (list(records[0]) if records else []), records)


def emit(text: str, output: str | None) -> None:
    """Print, or write exactly the rendered text to `output` (-o/--output) instead of stdout."""
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def as_data(value: Any) -> Any:
    """A result as plain data: its to_dict() when it has one, a dataclass as a dict, lists element-wise."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [as_data(v) for v in value]
    return value


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
    if isinstance(value, Path):
        return str(value)
    return value


def _jsonable(data: Any) -> Any:
    data = as_data(data)
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    return json_value(data)


def to_json(data: Any) -> str:
    return json.dumps(_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"


def to_ndjson(rows: Iterable[Any]) -> str:
    return "".join(json.dumps(_jsonable(row), ensure_ascii=False, allow_nan=False, default=str) + "\n" for row in rows)


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(_jsonable(value), ensure_ascii=False)
    return value


def to_csv(columns: Sequence[str], rows: Iterable[Row]) -> str:
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


def to_table(columns: Sequence[str], rows: Iterable[Row]) -> str:
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
    """Key/value lines, aligned."""
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
