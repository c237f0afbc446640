"""`profilemesh query runs|drift|run|table`: thin wrappers over profilemesh.query (no dbt import)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from profilemesh.cli.options import CONFIG

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "ndjson"]),
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
DAYS = click.option(
    "--days", type=click.IntRange(min=0), default=30, show_default=True, help="Look back N days (0: no limit)."
)
LIMIT = click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Rows per page.")
OFFSET = click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Rows to skip.")

RUNS_TABLE_COLUMNS = (
    "run_id",
    "dataset_name",
    "schema_name",
    "environment",
    "status",
    "profiled_at",
    "row_count",
    "column_count",
    "metric_count",
    "drift_event_count",
    "max_drift_severity",
)
DRIFT_TABLE_COLUMNS = (
    "detected_at",
    "schema_name",
    "table_name",
    "column_name",
    "metric_name",
    "baseline_value",
    "current_value",
    "change_percent",
    "drift_severity",
    "event_type",
    "run_id",
)
HISTORY_TABLE_COLUMNS = (
    "profiled_at",
    "run_id",
    "status",
    "row_count",
    "row_count_change",
    "row_count_change_percent",
    "column_count",
    "column_count_change",
    "drift_event_count",
    "max_drift_severity",
)
METRIC_TABLE_COLUMNS = ("column_name", "column_type", "metric_name", "metric_value")


@contextlib.contextmanager
def _reader(config_path: str | None) -> Iterator[Any]:
    from profilemesh.config import load_config
    from profilemesh.connection import resolve_storage
    from profilemesh.query.reader import open_reader

    with open_reader(resolve_storage(load_config(config_path))) as reader:
        if reader.warning:
            click.echo(reader.warning, err=True)
        yield reader


def _emit(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        from profilemesh.errors import UsageError

        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc


def _page_text(page: Any, fmt: str, table_columns: tuple[str, ...], noun: str, empty: str) -> str:
    from profilemesh.query import formats

    if fmt == "json":
        return formats.to_json({"total": page.total, "limit": page.limit, "offset": page.offset, "rows": page.rows})
    if fmt == "ndjson":
        return formats.to_ndjson(page.rows)
    if fmt == "csv":
        return formats.to_csv(page.columns, page.rows)
    if not page.rows:
        beyond = f" at offset {page.offset} ({page.total} in all)" if page.total else ""
        return f"{empty}{beyond}\n"
    last = page.offset + len(page.rows)
    footer = f"{noun} {page.offset + 1}-{last} of {page.total}"
    if last < page.total:
        footer += f" (next page: --offset {last})"
    return formats.to_table(table_columns, page.rows) + footer + "\n"


def _window(days: int) -> str:
    return "in any period" if days == 0 else f"in the last {days} day{'s' if days != 1 else ''}"


@click.group()
def query() -> None:
    """Look up runs, drift, one run's metrics and one table's history (reads the query views)."""


@query.command()
@CONFIG
@click.option("--schema", default=None, help="Only tables in this schema.")
@click.option("--table", default=None, help="Only this table.")
@click.option("--status", type=click.Choice(["completed", "failed"]), default=None, help="Only runs with this status.")
@click.option("--environment", default=None, help="Only runs of this environment.")
@DAYS
@LIMIT
@OFFSET
@FORMAT
@OUTPUT
def runs(
    config_path: str | None,
    schema: str | None,
    table: str | None,
    status: str | None,
    environment: str | None,
    days: int,
    limit: int,
    offset: int,
    fmt: str,
    output: str | None,
) -> int:
    """Profiling runs, newest first (one row per run and table)."""
    from profilemesh.query.queries import list_runs

    with _reader(config_path) as reader:
        page = list_runs(
            reader,
            schema=schema,
            table=table,
            status=status,
            environment=environment,
            days=days,
            limit=limit,
            offset=offset,
        )
    _emit(_page_text(page, fmt, RUNS_TABLE_COLUMNS, "runs", f"no runs found {_window(days)}"), output)
    return 0


@query.command()
@CONFIG
@click.option("--table", default=None, help="Only events about this table.")
@click.option(
    "--severity", type=click.Choice(["none", "low", "medium", "high"]), default=None, help="Only this severity."
)
@DAYS
@LIMIT
@OFFSET
@FORMAT
@OUTPUT
def drift(
    config_path: str | None,
    table: str | None,
    severity: str | None,
    days: int,
    limit: int,
    offset: int,
    fmt: str,
    output: str | None,
) -> int:
    """Drift events (DataDriftDetected, SchemaChangeDetected), newest first."""
    from profilemesh.query.queries import list_drift

    with _reader(config_path) as reader:
        page = list_drift(reader, table=table, severity=severity, days=days, limit=limit, offset=offset)
    _emit(_page_text(page, fmt, DRIFT_TABLE_COLUMNS, "events", f"no drift events found {_window(days)}"), output)
    return 0


@query.command()
@CONFIG
@click.option("--run-id", required=True, help="The run to show.")
@click.option("--table", default=None, help="Only this table of the run.")
@FORMAT
@OUTPUT
def run(config_path: str | None, run_id: str, table: str | None, fmt: str, output: str | None) -> int:
    """One run's metadata and every column's metrics. Exit 1 when the run does not exist."""
    from profilemesh.query.queries import run_details

    with _reader(config_path) as reader:
        details = run_details(reader, run_id, table=table)
    _emit(_run_text(details, fmt), output)
    return 0


def _run_text(details: Any, fmt: str) -> str:
    from profilemesh.query import formats
    from profilemesh.query.views import METRICS_COLUMNS

    if fmt == "csv":
        return formats.to_csv(METRICS_COLUMNS, details.metrics)
    if fmt == "ndjson":
        return formats.to_ndjson(details.metrics)
    by_table: dict[str, list[dict[str, Any]]] = {}
    for metric in details.metrics:
        by_table.setdefault(metric["dataset_name"], []).append(metric)
    if fmt == "json":
        tables = [{**t, "columns": _columns(by_table.get(t["dataset_name"], []))} for t in details.tables]
        return formats.to_json({"run_id": details.run_id, "tables": tables})
    parts = []
    for t in details.tables:
        parts.append(formats.to_fields((k, t[k]) for k in t))
        metrics = by_table.get(t["dataset_name"], [])
        parts.append(formats.to_table(METRIC_TABLE_COLUMNS, metrics) if metrics else "no metrics stored\n")
    return "\n".join(parts)


def _columns(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Metrics grouped per column: {name: number when numeric, else the stored text}."""
    columns: dict[str, dict[str, Any]] = {}
    for m in metrics:
        column = columns.setdefault(
            m["column_name"], {"column_name": m["column_name"], "column_type": m["column_type"], "metrics": {}}
        )
        numeric = m["metric_value_numeric"]
        column["metrics"][m["metric_name"]] = numeric if numeric is not None else m["metric_value"]
    return list(columns.values())


@query.command(name="table")
@CONFIG
@click.option("--table", required=True, help="The table.")
@click.option("--schema", default=None, help="Its schema (needed when the name exists in several).")
@DAYS
@FORMAT
@OUTPUT
def table_cmd(config_path: str | None, table: str, schema: str | None, days: int, fmt: str, output: str | None) -> int:
    """One table's history, oldest first: row and column counts, their change per run, and the trend."""
    from profilemesh.query.queries import table_history

    with _reader(config_path) as reader:
        history = table_history(reader, table, schema=schema, days=days)
    _emit(_history_text(history, fmt), output)
    return 0


def _trend(history: Any) -> dict[str, Any]:
    from profilemesh.query import formats

    counts = [c for c in history.row_counts if c is not None]
    return {
        "runs": len(history.rows),
        "first_row_count": counts[0] if counts else None,
        "last_row_count": counts[-1] if counts else None,
        "sparkline": formats.sparkline(history.row_counts),
    }


def _history_text(history: Any, fmt: str) -> str:
    from profilemesh.query import formats
    from profilemesh.query.views import HISTORY_COLUMNS

    if fmt == "csv":
        return formats.to_csv(HISTORY_COLUMNS, history.rows)
    if fmt == "ndjson":
        return formats.to_ndjson(history.rows)
    if fmt == "json":
        return formats.to_json(
            {
                "table": history.table,
                "schema": history.schema,
                "days": history.days,
                "total": len(history.rows),
                "trend": _trend(history),
                "rows": history.rows,
            }
        )
    name = f"{history.schema}.{history.table}" if history.schema else history.table
    if not history.rows:
        return f"no history for table {name} {_window(history.days)}\n"
    trend = _trend(history)
    lines = [
        f"history of {name} {_window(history.days)}: {len(history.rows)} runs\n",
        formats.to_table(HISTORY_TABLE_COLUMNS, history.rows),
        f"row count trend: {trend['sparkline']}  ({_count(trend['first_row_count'])} -> "
        f"{_count(trend['last_row_count'])})\n",
    ]
    return "".join(lines)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
