"""Freshness of a table profiled with a `time_column`: hours from its newest row's time (the newest
the run's window reads, under the table's `where`) to the run's time, a table-level metric
(column_name '') that `drift` grades and holds to the table's freshness SLA."""

from __future__ import annotations

import datetime as dt

from profilemesh.config.freshness import FRESHNESS_METRIC, lag_hours
from profilemesh.profiling.execute import MetricValue


def freshness_metric(newest: dt.date | dt.datetime, profiled_at: dt.datetime) -> MetricValue:
    lag = lag_hours(newest, profiled_at)
    return MetricValue("", "", FRESHNESS_METRIC, str(lag), lag)
