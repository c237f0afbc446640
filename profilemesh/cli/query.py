"""`profilemesh query runs|drift|run|table`: thin wrappers over profilemesh.api (no dbt import)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from profilemesh.cli.options import CONFIG, context, output_options
from profilemesh.cli.render import emit, render, sparkline, to_csv, to_fields, to_json, to_ndjson, to_table
from profilemesh.contract import (
    COLUMN_METRICS_VIEW,
    DRIFT_VIEW,
    RUN_STATUSES,
    RUNS_VIEW,
    SEVERITIES,
    TABLE_HISTORY_VIEW,
    VIEW_COLUMNS,
)

if TYPE_CHECKING:
    from profilemesh.query.queries import Page, RunDetails, TableHistory

METRICS_COLUMNS = VIEW_COLUMNS[COLUMN_METRICS_VIEW]
HISTORY_COLUMNS = VIEW_COLUMNS[TABLE_HISTORY_VIEW]

DAYS = click.option(
    "--days", type=click.IntRange(min=0), default=30, show_default=True, help="Look back N days (0: no limit)."
)
LIMIT = click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Rows per page.")
OFFSET = click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Rows to skip.")


def _shown(view: str, *, first: tuple[str, ...] = (), hidden: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A view's columns as the table format shows them: `first` first, the wide ones (`hidden`) left out.
    JSON, NDJSON and CSV hold every column of the view."""
    return (*first, *(c for c in VIEW_COLUMNS[view] if c not in first and c not in hidden))


RUNS_TABLE_COLUMNS = _shown(RUNS_VIEW, hidden=("error_message", "duration_seconds", "scope"))
# What each run cost, in the table format: its seconds and what runs.scope's `cost` says it read
# (JSON, NDJSON and CSV hold the whole scope).
RUNS_COST_COLUMNS = ("seconds", "rows_read", "bytes_read", "credits")
DRIFT_TABLE_COLUMNS = _shown(
    DRIFT_VIEW,
    first=("detected_at",),
    hidden=("environment", "profiled_at", "metadata", "accepted_by", "accepted_reason"),
)
HISTORY_TABLE_COLUMNS = _shown(
    TABLE_HISTORY_VIEW,
    first=("profiled_at", "run_id"),
    hidden=(
        "schema_name",
        "dataset_name",
        "environment",
        "previous_run_id",
        "previous_profiled_at",
        "previous_row_count",
    ),
)
METRIC_TABLE_COLUMNS = ("column_name", "column_type", "metric_name", "metric_value")
SHAPE_COLUMNS = ("column_name", "shape", "summary")  # a column's quantiles, top values or segments, in one line


def _warn(result: Any) -> None:
    """The reader's one-line warning (a store read from its tables, or one that needs a repair)."""
    if result.warning:
        click.echo(result.warning, err=True)


def page_text(page: Page, table_columns: tuple[str, ...], noun: str, empty: str) -> str:
    """A page as a table with its position ("runs 1-100 of 230 (next page: --offset 100)")."""
    if not page.rows:
        beyond = f" at offset {page.offset} ({page.total} in all)" if page.total else ""
        return f"{empty}{beyond}\n"
    last = page.offset + len(page.rows)
    footer = f"{noun} {page.offset + 1}-{last} of {page.total}"
    if last < page.total:
        footer += f" (next page: --offset {last})"
    return to_table(table_columns, page.rows) + footer + "\n"


def _render_page(page: Page, fmt: str, table: Any) -> str:
    data = {"total": page.total, "limit": page.limit, "offset": page.offset, "rows": page.rows}
    return render(fmt, data, rows=page.rows, columns=page.columns, table=table)


def _window(days: int) -> str:
    return "in any period" if days == 0 else f"in the last {days} day{'s' if days != 1 else ''}"


def _runs_text(page: Page, empty: str) -> str:
    """The runs as a table, each with what it cost (docs/guides/PROFILING.md, What a run costs)."""
    from dataclasses import replace

    from profilemesh.store.tables import stored_cost

    rows = [{**row, "seconds": row["duration_seconds"], **stored_cost(row["scope"])} for row in page.rows]
    return page_text(replace(page, rows=rows), (*RUNS_TABLE_COLUMNS, *RUNS_COST_COLUMNS), "runs", empty)


@click.group()
def query() -> None:
    """Look up runs, drift, one run's metrics and one table's history (reads the query views)."""


@query.command()
@CONFIG
@click.option("--schema", default=None, help="Only tables in this schema.")
@click.option("--table", default=None, help="Only this table ([schema.]name).")
@click.option("--status", type=click.Choice(RUN_STATUSES), default=None, help="Only runs with this status.")
@click.option("--environment", default=None, help="Only runs of this environment.")
@click.option(
    "--dbt-node", default=None, help="Only tables profiled as this dbt node (its unique id: model.shop.orders)."
)
@DAYS
@LIMIT
@OFFSET
@output_options
def runs(
    config_path: str | None,
    schema: str | None,
    table: str | None,
    status: str | None,
    environment: str | None,
    dbt_node: str | None,
    days: int,
    limit: int,
    offset: int,
    fmt: str,
    output: str | None,
) -> int:
    """Profiling runs, newest first (one row per run and table)."""
    from profilemesh.api import query_runs

    page = query_runs(
        context(config_path),
        schema=schema,
        table=table,
        status=status,
        environment=environment,
        dbt_node=dbt_node,
        days=days,
        limit=limit,
        offset=offset,
    )
    _warn(page)
    empty = f"no runs found {_window(days)}"
    emit(_render_page(page, fmt, lambda: _runs_text(page, empty)), output)
    return 0


@query.command()
@CONFIG
@click.option("--schema", default=None, help="Only events about tables in this schema.")
@click.option("--table", default=None, help="Only events about this table ([schema.]name).")
@click.option("--severity", type=click.Choice(SEVERITIES), default=None, help="Only this severity.")
@DAYS
@LIMIT
@OFFSET
@output_options
def drift(
    config_path: str | None,
    schema: str | None,
    table: str | None,
    severity: str | None,
    days: int,
    limit: int,
    offset: int,
    fmt: str,
    output: str | None,
) -> int:
    """Drift events (DataDriftDetected, SchemaChangeDetected), newest first."""
    from profilemesh.api import query_drift

    page = query_drift(
        context(config_path), schema=schema, table=table, severity=severity, days=days, limit=limit, offset=offset
    )
    _warn(page)
    empty = f"no drift events found {_window(days)}"
    emit(_render_page(page, fmt, lambda: page_text(page, DRIFT_TABLE_COLUMNS, "events", empty)), output)
    return 0


@query.command()
@CONFIG
@click.option("--run-id", required=True, help="The run to show.")
@click.option("--schema", default=None, help="Only the run's tables in this schema.")
@click.option("--table", default=None, help="Only this table of the run ([schema.]name).")
@output_options
def run(
    config_path: str | None, run_id: str, schema: str | None, table: str | None, fmt: str, output: str | None
) -> int:
    """One run's metadata and every column's metrics. Exit 1 when the run does not exist."""
    from profilemesh.api import query_run

    details = query_run(context(config_path), run_id, table=table, schema=schema)
    _warn(details)
    emit(_run_text(details, fmt), output)
    return 0


def _run_text(details: RunDetails, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(METRICS_COLUMNS, details.metrics)
    if fmt == "ndjson":
        return to_ndjson(details.metrics)
    by_table: dict[str, list[dict[str, Any]]] = {}
    for metric in details.metrics:
        by_table.setdefault(metric["dataset_name"], []).append(metric)
    from profilemesh.query.queries import shape_summary

    shapes: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for shape in details.distributions:
        shapes.setdefault((shape["schema_name"], shape["dataset_name"]), []).append(shape)
    if fmt == "json":
        tables = [
            {
                **t,
                "columns": _columns(by_table.get(t["dataset_name"], [])),
                "distributions": shapes.get((t["schema_name"], t["dataset_name"]), []),
            }
            for t in details.tables
        ]
        return to_json({"run_id": details.run_id, "tables": tables})
    parts = []
    for t in details.tables:
        parts.append(to_fields((k, t[k]) for k in t))
        metrics = by_table.get(t["dataset_name"], [])
        parts.append(to_table(METRIC_TABLE_COLUMNS, metrics) if metrics else "no metrics stored\n")
        summary = shape_summary(shapes.get((t["schema_name"], t["dataset_name"]), []))
        if summary:
            parts.append(to_table(SHAPE_COLUMNS, summary))
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
@click.option("--table", required=True, help="The table ([schema.]name).")
@click.option("--schema", default=None, help="Its schema (needed when the name exists in several).")
@DAYS
@output_options
def table_cmd(config_path: str | None, table: str, schema: str | None, days: int, fmt: str, output: str | None) -> int:
    """One table's history, oldest first: row and column counts, their change per run, and the trend."""
    from profilemesh.api import query_table

    history = query_table(context(config_path), table, schema=schema, days=days)
    _warn(history)
    emit(history_text(history, fmt), output)
    return 0


def _trend(history: TableHistory) -> dict[str, Any]:
    counts = [c for c in history.row_counts if c is not None]
    return {
        "runs": len(history.rows),
        "first_row_count": counts[0] if counts else None,
        "last_row_count": counts[-1] if counts else None,
        "sparkline": sparkline(history.row_counts),
    }


def history_text(history: TableHistory, fmt: str) -> str:
    """One table's history in a format (`query table`, and the quickstart's closing summary)."""
    data = {
        "table": history.table,
        "schema": history.schema,
        "days": history.days,
        "total": len(history.rows),
        "trend": _trend(history),
        "rows": history.rows,
        "distributions": history.distributions,
    }
    return render(fmt, data, rows=history.rows, columns=HISTORY_COLUMNS, table=lambda: _history_table(history))


def _history_table(history: TableHistory) -> str:
    name = f"{history.schema}.{history.table}" if history.schema else history.table
    if not history.rows:
        return f"no history for table {name} {_window(history.days)}\n"
    trend = _trend(history)
    lines = [
        f"history of {name} {_window(history.days)}: {len(history.rows)} runs\n",
        to_table(HISTORY_TABLE_COLUMNS, history.rows),
        f"row count trend: {trend['sparkline']}  ({_count(trend['first_row_count'])} -> "
        f"{_count(trend['last_row_count'])})\n",
    ]
    from profilemesh.query.queries import shape_summary

    summary = shape_summary(history.distributions)
    if summary:
        lines += [f"\ndistributions in the newest completed run ({history.distributions[0]['run_id']}):\n",
                  to_table(SHAPE_COLUMNS, summary)]  # fmt: skip
    return "".join(lines)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"
