"""The `profiling` section of profilemesh.yml, validated strictly: unknown keys and wrong types are
configuration errors naming the key (`drift_detection`: drift_settings.py)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profilemesh.config.freshness import FreshnessSLA, parse_freshness
from profilemesh.config.limits import DEFAULT_LIMITS, Limits, parse_limits
from profilemesh.config.read_scope import FULL_READ, SCOPE_KEYS, ReadScope, read_scope
from profilemesh.config.values import mapping, positive_int
from profilemesh.errors import ConfigError, UsageError

METRIC_NAMES = (
    "count",
    "null_count",
    "null_percent",
    "distinct_count",
    "distinct_percent",
    "min",
    "max",
    "mean",
    "stddev",
    "min_length",
    "max_length",
    "mean_length",
    "true_count",
)
DISTINCT_MODES = ("exact", "approximate")


@dataclass(frozen=True)
class TableSelector:
    schema: str | None
    table: str  # may hold glob characters: * ? [
    scope: ReadScope = FULL_READ
    freshness: FreshnessSLA | None = None  # its own freshness SLA (else profiling.freshness)
    metrics: tuple[str, ...] | None = None  # this table's metrics; None: profiling.metrics
    dbt_unique_id: str | None = None  # the dbt node this table is (profile --project-dir)
    explicit: frozenset[str] = frozenset()  # the keys its entry set (the rest are defaults)
    segment_by: tuple[str, ...] = ()  # columns whose values' row counts are profiled (distributions.py)
    # Metrics profiled per segment: ((column, (metric, ...)), ...) in the order given (SEGMENT_METRIC_NAMES).
    segment_metrics: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def is_pattern(self) -> bool:
        return any(ch in self.table for ch in "*?[")

    def matches(self, schema: str | None, table: str) -> bool:
        """Whether a named table is this selector's (no schema here matches any schema)."""
        return self.schema in (None, schema) and (table == self.table or fnmatch.fnmatchcase(table, self.table))


def split_table_name(name: str | None, schema: str | None = None) -> tuple[str | None, str | None]:
    """`--table [schema.]name` and `--schema` as (schema, table), the same way for every command: the
    part before the last dot is the schema. A dotted name and a different --schema is a usage error."""
    if name is None:
        return schema, None
    prefix, _, table = name.rpartition(".")
    if prefix and schema is not None and prefix != schema:
        raise UsageError(f"--table {name} names schema {prefix}, --schema says {schema}: give one")
    return (prefix or schema), table


QUANTILE_MODES = ("auto", "exact", "approximate")
# The metrics `segment_metrics` may name: those one GROUP BY computes per segment value (a distinct count
# per segment would need a sort or hash per value and column). null_percent for any column; mean, stddev,
# min and max for numeric columns; mean_length for strings (checked when the table is profiled).
SEGMENT_METRIC_NAMES = ("null_percent", "mean", "stddev", "min", "max", "mean_length")


@dataclass(frozen=True)
class DistributionSettings:
    """profiling.distributions: the shape of each column's values, stored per run (profiling/distributions/)."""

    enabled: bool = True
    quantiles: str = "auto"  # exact | approximate | auto: exact up to exact_max_rows rows
    exact_max_rows: int = 100_000
    max_categories: int = 100  # a column with at most this many distinct values gets its top values
    top_values: int = 10  # values (and segments) kept per column, the rest summed as "other"
    bins: int = 20  # histogram bins over the run's min..max
    # Above this many rows (what the profile just counted), quantiles, top values and segments come from
    # one statement over a block sample of about sample_rows rows (TABLESAMPLE SYSTEM): a bounded read.
    # None: never (every row is read for the value shares).
    sample_above_rows: int | None = 10_000_000
    sample_rows: int = 100_000


@dataclass(frozen=True)
class ProfilingSettings:
    tables: tuple[TableSelector, ...] = ()
    metrics: tuple[str, ...] = METRIC_NAMES
    distinct: str = "exact"
    scope: ReadScope = FULL_READ  # the top level's columns, exclude_columns and sample: each table's default
    freshness: FreshnessSLA | None = None  # every table's freshness SLA, unless its entry sets one
    limits: Limits = DEFAULT_LIMITS  # memory, spill directory, the approximate switch (config/limits.py)
    distributions: DistributionSettings = DistributionSettings()

    def segments_for(
        self, schema: str | None, table: str
    ) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
        """The segment_by columns and segment_metrics of the first profiling.tables entry that matches."""
        return next(((s.segment_by, s.segment_metrics) for s in self.tables if s.matches(schema, table)), ((), ()))


def parse_profiling(data: Any, shown: str, base_dir: Path = Path()) -> ProfilingSettings:
    if data is None:
        return ProfilingSettings()
    mapping(
        data,
        shown,
        "profiling",
        {
            "tables",
            "metrics",
            "distinct",
            "columns",
            "exclude_columns",
            "sample",
            "freshness",
            "limits",
            "distributions",
            "granularity",
            "lookback",
            "timezone",
        },
    )
    defaults = read_scope(data, shown, "profiling", FULL_READ, allow_where=False)
    tables = []
    raw_tables = data.get("tables") or []
    if not isinstance(raw_tables, list):
        raise ConfigError(shown, "profiling.tables", "must be a list of {schema, table}")
    for index, item in enumerate(raw_tables):
        key = f"profiling.tables[{index}]"
        if isinstance(item, str):  # "schema.table" shorthand
            schema, table = split_table_name(item)
            item = {"schema": schema, "table": table}
        mapping(
            item, shown, key, {"schema", "table", "freshness", "metrics", "segment_by", "segment_metrics", *SCOPE_KEYS}
        )
        table = item.get("table")
        if not isinstance(table, str) or not table:
            raise ConfigError(shown, f"{key}.table", "required, a string")
        schema = item.get("schema")
        if schema is not None and not isinstance(schema, str):
            raise ConfigError(shown, f"{key}.schema", "must be a string")
        tables.append(
            TableSelector(
                schema=schema,
                table=table,
                scope=read_scope(item, shown, key, defaults),
                freshness=parse_freshness(item.get("freshness"), shown, f"{key}.freshness"),
                metrics=parse_metrics(item["metrics"], shown, f"{key}.metrics") if "metrics" in item else None,
                explicit=frozenset(item) - {"schema", "table"},
                segment_by=_segment_by(item.get("segment_by"), shown, key),
                segment_metrics=_segment_metrics(item, shown, key),
            )
        )
    metrics = parse_metrics(data.get("metrics", list(METRIC_NAMES)), shown, "profiling.metrics")
    distinct = data.get("distinct", "exact")
    if distinct not in DISTINCT_MODES:
        raise ConfigError(shown, "profiling.distinct", f"must be one of {', '.join(DISTINCT_MODES)}")
    return ProfilingSettings(
        tables=tuple(tables),
        metrics=metrics,
        distinct=distinct,
        scope=defaults,
        freshness=parse_freshness(data.get("freshness"), shown, "profiling.freshness"),
        limits=parse_limits(data.get("limits"), shown, base_dir),
        distributions=_distributions(data.get("distributions"), shown),
    )


def parse_metrics(metrics: Any, shown: str, key: str) -> tuple[str, ...]:
    """profiling.metrics (or a table's `metrics`): known metric names, in the canonical order."""
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise ConfigError(shown, key, "must be a list of metric names")
    unknown = sorted(set(metrics) - set(METRIC_NAMES))
    if unknown:
        raise ConfigError(shown, key, f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(METRIC_NAMES)})")
    return tuple(m for m in METRIC_NAMES if m in metrics)


def _segment_by(value: Any, shown: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(c, str) and c.strip() for c in value):
        raise ConfigError(shown, f"{key}.segment_by", "must be a column name or a list of column names")
    if len({c.lower() for c in value}) != len(value):
        raise ConfigError(shown, f"{key}.segment_by", "names a column twice")
    return tuple(c.strip() for c in value)


def _segment_metrics(item: dict[str, Any], shown: str, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`segment_metrics: {column: [metric, ...]}`: metrics profiled per segment of the entry's segment_by."""
    value = item.get("segment_metrics")
    if value is None:
        return ()
    key = f"{key}.segment_metrics"
    if not item.get("segment_by"):
        raise ConfigError(shown, key, "needs segment_by in the same entry (the columns whose values are segments)")
    if not isinstance(value, dict) or not value:
        raise ConfigError(shown, key, "must be a mapping of column name to a list of metrics")
    out = []
    for column, metrics in value.items():
        if isinstance(metrics, str):
            metrics = [metrics]
        if not isinstance(column, str) or not column.strip():
            raise ConfigError(shown, key, "a column name must be a non-empty string")
        if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
            raise ConfigError(shown, f"{key}.{column}", "must be a list of metric names")
        unknown = sorted(set(metrics) - set(SEGMENT_METRIC_NAMES))
        if unknown:
            raise ConfigError(
                shown,
                f"{key}.{column}",
                f"unknown segment metric(s) {', '.join(unknown)} (known: {', '.join(SEGMENT_METRIC_NAMES)})",
            )
        out.append((column.strip(), tuple(m for m in SEGMENT_METRIC_NAMES if m in metrics)))
    return tuple(out)


def _distributions(data: Any, shown: str) -> DistributionSettings:
    if data is None:
        return DistributionSettings()
    if isinstance(data, bool):
        return DistributionSettings(enabled=data)
    key = "profiling.distributions"
    allowed = {"enabled", "quantiles", "exact_max_rows", "max_categories", "top_values", "bins"}
    mapping(data, shown, key, allowed | {"sample_above_rows", "sample_rows"})
    defaults = DistributionSettings()
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(shown, f"{key}.enabled", "must be true or false")
    quantiles = data.get("quantiles", defaults.quantiles)
    if quantiles not in QUANTILE_MODES:
        raise ConfigError(shown, f"{key}.quantiles", f"must be one of {', '.join(QUANTILE_MODES)}")
    numbers = {
        name: positive_int(data, name, getattr(defaults, name), shown, key)
        for name in ("exact_max_rows", "max_categories", "top_values", "bins", "sample_rows")
    }
    above = defaults.sample_above_rows
    if "sample_above_rows" in data:  # null: never sample
        above = None if data["sample_above_rows"] is None else positive_int(data, "sample_above_rows", 1, shown, key)
    return DistributionSettings(enabled=enabled, quantiles=quantiles, sample_above_rows=above, **numbers)
