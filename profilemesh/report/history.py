"""The report's reading: runs, drift events and numeric metrics of the chosen tables, in one window.

The relations are those `profilemesh query` reads (the query views at head, or their SQLAlchemy Core
definitions on a store one version behind); they come in through `Sources`, so this feature does not
import the query feature. SQLAlchemy Core only: names quoted by the dialect, values bound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.clock import utc_now
from profilemesh.contract import DRIFT_VIEW, RUNS_VIEW, VIEW_COLUMNS
from profilemesh.errors import UsageError
from profilemesh.store.tables import SUPERSEDED

TableKey = tuple[str | None, str]  # (schema_name, dataset_name)

# The counts behind a percentage: read and charted only where a drift event names one (null_percent,
# distinct_percent and the row count say the same).
NOT_CHARTED = frozenset({"count", "null_count", "distinct_count"})
MAX_NAMED_COUNTS = 200
# The page's chart values at most (about 6 bytes each in the file): past it, each table's charts show
# its latest runs only. With plotly.js (4.8 MB) and the tables, a page stays under about 20 MB.
CHART_VALUES = 1_200_000
MIN_CHART_RUNS = 30

# The views' columns the page uses (the contract lists them all, generated from the dbt package).
RUN_COLUMNS = tuple(
    c for c in VIEW_COLUMNS[RUNS_VIEW] if c not in {"environment", "scope", "drift_event_count", "max_drift_severity"}
)
EVENT_COLUMNS = tuple(
    c for c in VIEW_COLUMNS[DRIFT_VIEW] if c not in {"environment", "profiled_at", "accepted_by", "accepted_reason"}
)


class Sources(Protocol):
    """The views a report reads, by their logical names (profilemesh.query.relations.Relations fits)."""

    @property
    def runs(self) -> sa.FromClause: ...

    @property
    def drift(self) -> sa.FromClause: ...

    @property
    def metrics(self) -> sa.FromClause: ...


@dataclass
class TableHistory:
    schema: str | None
    name: str
    runs: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    # column -> metric -> run_id -> value
    metrics: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class StoreHistory:
    days: int
    since: dt.datetime | None
    generated_at: dt.datetime
    tables: list[TableHistory]
    chart_runs: int  # each table's charts show its latest chart_runs runs (chart_run_limit)


def parse_table(text: str) -> TableKey:
    schema, _, name = text.rpartition(".")
    return (schema or None, name)


def read_history(
    conn: Connection,
    sources: Sources,
    *,
    tables: Sequence[str] = (),
    days: int = 30,
    now: dt.datetime | None = None,
) -> StoreHistory:
    """Every table profiled in the window (or the `[schema.]name`s in `tables`: an unknown one is a
    usage error naming the known tables), with its runs, events and metrics, oldest first."""
    if days < 0:
        raise UsageError("--days must be 0 (no limit) or more")
    generated_at = now or utc_now()
    since = None if days == 0 else generated_at - dt.timedelta(days=days)
    chosen = _chosen_tables(conn, sources, tables)
    histories: dict[TableKey, TableHistory] = {}

    r = sources.runs.c
    where = [*_filters(r.schema_name, r.dataset_name, chosen), r.status != SUPERSEDED]  # one point per bucket
    if since is not None:
        where.append(r.profiled_at >= since)
    query = sa.select(*(r[c] for c in RUN_COLUMNS)).where(*where)
    for row in conn.execute(query.order_by(r.schema_name, r.dataset_name, r.profiled_at, r.run_id)):
        run = dict(zip(RUN_COLUMNS, row, strict=True))
        run["profiled_at"] = _timestamp(run["profiled_at"])
        key = (run["schema_name"], run["dataset_name"])
        histories.setdefault(key, TableHistory(*key)).runs.append(run)
    for key in chosen or ():
        histories.setdefault(key, TableHistory(*key))

    d = sources.drift.c
    where = _filters(d.schema_name, d.table_name, chosen)
    if since is not None:
        where.append(d.profiled_at >= since)
    query = sa.select(*(d[c] for c in EVENT_COLUMNS)).where(*where).order_by(d.detected_at, d.event_id)
    for row in conn.execute(query):
        event = dict(zip(EVENT_COLUMNS, row, strict=True))
        history = histories.get((event["schema_name"], event["table_name"]))
        if history is not None:
            history.events.append(event)

    chart_runs = chart_run_limit(histories.values())
    metric_filter = _charted_metrics(sources.metrics.c, histories.values())
    for schema, dataset, column, metric, run_id, value in conn.execute(
        _metrics_query(sources, chosen, since, chart_runs, metric_filter, histories.values())
    ):
        history = histories.get((schema, dataset))
        if history is not None and column is not None:
            history.metrics.setdefault(column, {}).setdefault(metric, {})[run_id] = float(value)

    ordered = sorted(histories.values(), key=lambda h: (h.schema or "", h.name))
    return StoreHistory(days, since, generated_at, ordered, chart_runs)


def chart_run_limit(histories: Iterable[TableHistory]) -> int:
    """How many of each table's latest runs its charts show: all of them while the page's values fit
    CHART_VALUES (a table's series estimated by its latest run's metric count), else the same number
    for every table, at least MIN_CHART_RUNS. Keeps a big store's page small and quick to make."""
    histories = list(histories)
    series = sum((h.runs[-1]["metric_count"] or 0) if h.runs else 0 for h in histories)
    longest = max((len(h.runs) for h in histories), default=0)
    if series * longest <= CHART_VALUES:
        return longest
    return max(MIN_CHART_RUNS, CHART_VALUES // max(series, 1))


def _charted_metrics(m: Any, histories: Iterable[TableHistory]) -> Any:
    """Metrics the charts show: all but the counts behind a percentage, unless a drift event names one."""
    named = {
        (e["schema_name"], e["table_name"], e["column_name"], e["metric_name"])
        for h in histories
        for e in h.events
        if e["metric_name"] in NOT_CHARTED and e["column_name"] is not None
    }
    if len(named) > MAX_NAMED_COUNTS:
        return None  # read every metric: cheaper than a statement with that many conditions
    exceptions = [
        sa.and_(
            m.schema_name.is_not_distinct_from(schema),
            m.dataset_name == table,
            m.column_name == column,
            m.metric_name == metric,
        )
        for schema, table, column, metric in sorted(named, key=str)
    ]
    return sa.or_(m.metric_name.not_in(sorted(NOT_CHARTED)), *exceptions)


def _metrics_query(
    sources: Sources,
    chosen: list[TableKey] | None,
    since: dt.datetime | None,
    chart_runs: int,
    metric_filter: Any,
    histories: Iterable[TableHistory],
) -> sa.Select[Any]:
    """Numeric metrics of the window's runs; of each table's latest `chart_runs` runs only, when a
    table has more (the runs ranked by a window function, joined by run, schema and table)."""
    m = sources.metrics.c
    where = [*_filters(m.schema_name, m.dataset_name, chosen), m.metric_value_numeric.is_not(None)]
    if metric_filter is not None:
        where.append(metric_filter)
    if since is not None:
        where.append(m.profiled_at >= since)
    query = sa.select(m.schema_name, m.dataset_name, m.column_name, m.metric_name, m.run_id, m.metric_value_numeric)
    if all(len(h.runs) <= chart_runs for h in histories):
        return query.where(*where)
    r = sources.runs.c
    run_where = [*_filters(r.schema_name, r.dataset_name, chosen), r.status != SUPERSEDED]
    if since is not None:
        run_where.append(r.profiled_at >= since)
    position = sa.func.row_number().over(
        partition_by=(r.schema_name, r.dataset_name), order_by=(r.profiled_at.desc(), r.run_id.desc())
    )
    ranked = sa.select(r.run_id, r.schema_name, r.dataset_name, position.label("position")).where(*run_where)
    latest = ranked.subquery("latest_runs")
    joined = sources.metrics.join(
        latest,
        sa.and_(
            m.run_id == latest.c.run_id,
            m.schema_name.is_not_distinct_from(latest.c.schema_name),
            m.dataset_name == latest.c.dataset_name,
        ),
    )
    return query.select_from(joined).where(*where, latest.c.position <= chart_runs)


def _timestamp(value: Any) -> dt.datetime:
    """A timestamp as a datetime (a driver may hand a string: Snowflake's emulator, an N-1 fallback)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _chosen_tables(conn: Connection, sources: Sources, tables: Sequence[str]) -> list[TableKey] | None:
    """The tables asked for, each checked against the tables the store has runs of; None for all."""
    if not tables:
        return None
    r = sources.runs.c
    known = [(s, n) for s, n in conn.execute(sa.select(r.schema_name, r.dataset_name).distinct())]
    chosen: list[TableKey] = []
    for text in tables:
        schema, name = parse_table(text)
        matches = [k for k in known if k[1] == name and (schema is None or k[0] == schema)]
        if not matches:
            shown = ", ".join(sorted(f"{s}.{n}" if s else n for s, n in known)) or "none"
            raise UsageError(f"no runs of table {text} in the store (tables with runs: {shown})")
        chosen.extend(k for k in matches if k not in chosen)
    return chosen


def _filters(schema_col: Any, name_col: Any, chosen: list[TableKey] | None) -> list[Any]:
    if chosen is None:
        return []
    pairs = [
        sa.and_(name_col == name, schema_col.is_(None) if schema is None else schema_col == schema)
        for schema, name in chosen
    ]
    return [sa.or_(*pairs)]
