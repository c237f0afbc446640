"""The four questions `profilemesh query` answers, over the relations a Reader chose.

Every list has a total order ending in a unique key, so consecutive pages neither overlap nor skip
a row even when many rows share a timestamp. Values are always bound; names are quoted by the
dialect (SQLAlchemy Core).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from profilemesh.clock import utc_now
from profilemesh.contract import (
    COLUMN_METRICS_VIEW,
    DISTRIBUTIONS_VIEW,
    DRIFT_VIEW,
    RUNS_VIEW,
    TABLE_HISTORY_VIEW,
    VIEW_COLUMNS,
)
from profilemesh.errors import CheckFailed, UsageError
from profilemesh.query.reader import Reader

Row = dict[str, Any]
RUNS_COLUMNS = VIEW_COLUMNS[RUNS_VIEW]
DRIFT_COLUMNS = VIEW_COLUMNS[DRIFT_VIEW]
HISTORY_COLUMNS = VIEW_COLUMNS[TABLE_HISTORY_VIEW]
METRICS_COLUMNS = VIEW_COLUMNS[COLUMN_METRICS_VIEW]
DISTRIBUTIONS_COLUMNS = VIEW_COLUMNS[DISTRIBUTIONS_VIEW]


@dataclass
class Page:
    """One page of a list, and how many rows the filters match in all."""

    columns: tuple[str, ...]
    rows: list[Row]
    total: int
    limit: int
    offset: int
    warning: str | None = None  # the store is read from its tables (one version behind), or needs a repair


@dataclass
class RunDetails:
    run_id: str
    tables: list[Row]  # rows of the runs view, one per table of the run
    metrics: list[Row]  # rows of the column metrics view
    warning: str | None = None
    distributions: list[Row] = field(default_factory=list)  # the distributions view, histograms left out


@dataclass
class TableHistory:
    table: str
    schema: str | None
    days: int
    rows: list[Row] = field(default_factory=list)
    warning: str | None = None
    distributions: list[Row] = field(default_factory=list)  # of the newest completed run shown

    @property
    def row_counts(self) -> list[int | None]:
        return [r["row_count"] for r in self.rows]


def _since(days: int, now: dt.datetime | None) -> dt.datetime | None:
    if days < 0:
        raise UsageError("--days must be 0 (no limit) or more")
    return None if days == 0 else (now or utc_now()) - dt.timedelta(days=days)


def _page(
    reader: Reader,
    relation: sa.FromClause,
    columns: tuple[str, ...],
    where: list[Any],
    order: list[Any],
    limit: int,
    offset: int,
) -> Page:
    if limit < 1 or offset < 0:
        raise UsageError("--limit must be 1 or more and --offset 0 or more")
    total = reader.conn.execute(sa.select(sa.func.count()).select_from(relation).where(*where)).scalar_one()
    query = sa.select(*(relation.c[c] for c in columns)).where(*where).order_by(*order).limit(limit).offset(offset)
    rows = [dict(zip(columns, row, strict=True)) for row in reader.conn.execute(query)]
    return Page(columns, rows, int(total), limit, offset, reader.warning)


def list_runs(
    reader: Reader,
    *,
    schema: str | None = None,
    table: str | None = None,
    status: str | None = None,
    environment: str | None = None,
    dbt_node: str | None = None,
    days: int = 30,
    limit: int = 100,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> Page:
    """Runs, newest first; ties broken by (run_id, dataset_name), the view's key. `dbt_node`: only the
    runs of tables profiled as that dbt node (its unique id, `model.shop.orders`)."""
    r = reader.relations.runs.c
    where = []
    if schema is not None:
        where.append(r.schema_name == schema)
    if table is not None:
        where.append(r.dataset_name == table)
    if status is not None:
        where.append(r.status == status)
    if environment is not None:
        where.append(r.environment == environment)
    if dbt_node is not None:
        where.append(r.dbt_unique_id == dbt_node)
    since = _since(days, now)
    if since is not None:
        where.append(r.profiled_at >= since)
    order = [r.profiled_at.desc(), r.run_id.asc(), r.dataset_name.asc()]
    return _page(reader, reader.relations.runs, RUNS_COLUMNS, where, order, limit, offset)


def list_drift(
    reader: Reader,
    *,
    schema: str | None = None,
    table: str | None = None,
    severity: str | None = None,
    days: int = 30,
    limit: int = 100,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> Page:
    """Drift events (never lifecycle events), newest first; ties broken by event_id."""
    d = reader.relations.drift.c
    where = []
    if schema is not None:
        where.append(d.schema_name == schema)
    if table is not None:
        where.append(d.table_name == table)
    if severity is not None:
        where.append(d.drift_severity == severity)
    since = _since(days, now)
    if since is not None:
        where.append(d.detected_at >= since)
    order = [d.detected_at.desc(), d.event_id.asc()]
    return _page(reader, reader.relations.drift, DRIFT_COLUMNS, where, order, limit, offset)


def run_details(reader: Reader, run_id: str, *, table: str | None = None, schema: str | None = None) -> RunDetails:
    """A run's tables (or its `[schema.]table`) and every column's metrics; "run X not found" when there
    is no such run."""
    r = reader.relations.runs.c
    tables_query = sa.select(*(r[c] for c in RUNS_COLUMNS)).where(r.run_id == run_id)
    tables = [
        dict(zip(RUNS_COLUMNS, row, strict=True))
        for row in reader.conn.execute(tables_query.order_by(r.schema_name, r.dataset_name))
    ]
    if not tables:
        raise CheckFailed(f"run {run_id} not found")
    if table is not None or schema is not None:
        chosen = [
            t
            for t in tables
            if (table is None or t["dataset_name"] == table) and (schema is None or t["schema_name"] == schema)
        ]
        if not chosen:
            names = ", ".join(_qualified(t["schema_name"], t["dataset_name"]) for t in tables)
            raise CheckFailed(f"run {run_id} has no table {_qualified(schema, table or '*')} (it profiled: {names})")
        tables = chosen
    m = reader.relations.metrics.c
    where = [m.run_id == run_id]
    if table is not None:
        where.append(m.dataset_name == table)
    if schema is not None:
        where.append(m.schema_name == schema)
    order = [m.dataset_name, m.column_name, m.metric_name, m.result_id]
    query = sa.select(*(m[c] for c in METRICS_COLUMNS)).where(*where).order_by(*order)
    metrics = [dict(zip(METRICS_COLUMNS, row, strict=True)) for row in reader.conn.execute(query)]
    distributions = _distributions(reader, run_id, table=table, schema=schema)
    return RunDetails(run_id, tables, metrics, reader.warning, distributions)


def _distributions(reader: Reader, run_id: str, *, table: str | None, schema: str | None) -> list[Row]:
    """A run's quantiles, top values and segments (histogram bins are for BI tools and the views)."""
    d = reader.relations.distributions.c
    where = [d.run_id == run_id, d.kind != "histogram"]
    if table is not None:
        where.append(d.dataset_name == table)
    if schema is not None:
        where.append(d.schema_name == schema)
    order = [d.schema_name, d.dataset_name, d.column_name, d.kind, d.position]
    query = sa.select(*(d[c] for c in DISTRIBUTIONS_COLUMNS)).where(*where).order_by(*order)
    return [dict(zip(DISTRIBUTIONS_COLUMNS, row, strict=True)) for row in reader.conn.execute(query)]


def shape_summary(rows: list[Row]) -> list[Row]:
    """Per table and column, its distributions in one line each: quantiles, top values, segments and
    segment metrics. A sampled shape says so (`(sampled)` after its quantiles, a top-values line)."""
    grouped: dict[tuple[Any, Any, Any, str], list[Row]] = {}
    for row in rows:
        kind = str({"other": "top_value", "segment_other": "segment"}.get(row["kind"], row["kind"]))
        grouped.setdefault((row["schema_name"], row["dataset_name"], row["column_name"], kind), []).append(row)
    out = []
    for (schema, table, column, kind), group in grouped.items():
        items = sorted(group, key=lambda i: (i["kind"] in ("other", "segment_other"), i["position"]))
        if kind == "quantile":
            text = ", ".join(f"{i['label']} {i['value_text']}" for i in items)
            text += f" ({items[0]['mode']})"
            shown = "quantiles"
        elif kind == "segment_metric":  # `region=n null_percent 28.6 (600 rows)`
            text = ", ".join(
                f"{i['label']} {i['value_text']} "
                + ("NULL" if i["value_numeric"] is None else f"{i['value_numeric']:.4g}")
                + f" ({i['row_count']} rows)"
                for i in items
            )
            shown = "segment metrics"
        else:
            parts = []
            for i in items:
                rest = i["kind"] in ("other", "segment_other")
                if rest and not i["row_count"]:
                    continue
                name = "other" if rest else ("NULL" if i["label"] is None else repr(i["label"]))
                share = f"{i['share_percent']:.1f}%" if i["share_percent"] is not None else "?"
                parts.append(f"{name} {share}" + (f" ({i['row_count']} rows)" if kind == "segment" else ""))
            text, shown = ", ".join(parts), "top values" if kind == "top_value" else "segments"
            text += " (sampled)" if items[0]["mode"] == "sampled" else ""
        out.append({"schema_name": schema, "dataset_name": table, "column_name": column, "shape": shown,
                    "summary": text})  # fmt: skip
    return out


def _qualified(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def table_history(
    reader: Reader, table: str, *, schema: str | None = None, days: int = 30, now: dt.datetime | None = None
) -> TableHistory:
    """One table's runs, oldest first (the order a trend reads in), with the change per run."""
    h = reader.relations.history.c
    where = [h.dataset_name == table]
    if schema is not None:
        where.append(h.schema_name == schema)
    since = _since(days, now)
    if since is not None:
        where.append(h.profiled_at >= since)
    query = sa.select(*(h[c] for c in HISTORY_COLUMNS)).where(*where).order_by(h.profiled_at, h.run_id)
    rows = [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in reader.conn.execute(query)]
    schemas = sorted({r["schema_name"] for r in rows}, key=lambda s: (s is None, s or ""))
    if schema is None and len(schemas) > 1:
        shown = ", ".join("(none)" if s is None else s for s in schemas)
        raise UsageError(f"table {table} exists in several schemas ({shown}): pass --schema")
    chosen = schema if schema is not None else (schemas[0] if schemas else None)
    completed = [r for r in rows if r["status"] == "completed"]
    shapes = _distributions(reader, completed[-1]["run_id"], table=table, schema=chosen) if completed else []
    return TableHistory(table, chosen, days, rows, reader.warning, shapes)
