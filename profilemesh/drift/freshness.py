"""Freshness SLAs (`freshness: {warn_after, error_after}`): a run whose `freshness_hours` is past a
limit raises a drift event, whatever the strategy and from the first run on (no warm-up): past
warn_after it is medium, past error_after high. Its metadata says `strategy: freshness_sla` and which
limit it broke; `drift --fail-on-drift` fails on it as on any event. Where a table has an SLA, the
SLA alone grades its freshness (the calibrated strategy leaves the metric to it)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.config import Config
from profilemesh.config.freshness import FRESHNESS_METRIC, FreshnessSLA
from profilemesh.config.monitor import freshness_sla
from profilemesh.drift.history import TableRun
from profilemesh.drift.strategies import Finding, change_percent
from profilemesh.store.tables import METADATA_PASS, storage_table, stored_schema
from profilemesh.store.target import StorageTarget

SLA_STRATEGY = "freshness_sla"


def sla_of(config: Config, run: TableRun) -> FreshnessSLA | None:
    """The SLA the run's table is held to (a metadata pass also takes the `monitor` section's)."""
    metadata_pass = METADATA_PASS in (json.loads(run.scope) if run.scope else {})
    return freshness_sla(config.profiling, config.monitor, run.schema, run.table, metadata_pass=metadata_pass)


def freshness_of(conn: Connection, target: StorageTarget, run: TableRun) -> float | None:
    """The run's freshness_hours, if it recorded one."""
    results = storage_table(target, "results")
    query = sa.select(results.c.metric_value_numeric).where(
        results.c.run_id == run.run_id,
        results.c.dataset_name == run.table,
        results.c.schema_name == stored_schema(run.schema),
        results.c.column_name == "",
        results.c.metric_name == FRESHNESS_METRIC,
    )
    value = conn.execute(query).scalar()
    return None if value is None else float(value)


def sla_finding(sla: FreshnessSLA, lag_hours: float) -> tuple[Finding, dict[str, Any]] | None:
    """The event's grading and its metadata, when the lag is past a limit."""
    breach = sla.breach(lag_hours)
    if breach is None:
        return None
    limit, severity, limit_hours = breach
    finding = Finding(severity, limit_hours, lag_hours, change_percent(limit_hours, lag_hours), "sla", lag_hours)
    params = {"strategy": SLA_STRATEGY, "baseline": limit, "limit_hours": limit_hours, **sla.describe()}
    return finding, params
