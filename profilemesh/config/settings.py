"""The `profiling` and `drift_detection` sections of profilemesh.yml, validated strictly:
unknown keys and wrong types are configuration errors naming the key."""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profilemesh.config.freshness import FreshnessSLA, parse_freshness
from profilemesh.config.limits import DEFAULT_LIMITS, Limits, parse_limits
from profilemesh.config.read_scope import FULL_READ, SCOPE_KEYS, ReadScope, read_scope
from profilemesh.config.values import mapping, non_negative_number, positive_int
from profilemesh.contract import SEVERITIES
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
# The metrics drift grades (row_count is the table's), for ignore_metrics.
DRIFT_METRIC_NAMES = (
    "row_count",
    "null_percent",
    "distinct_percent",
    "distinct_percent_approx",
    "mean",
    "mean_length",
    "stddev",
    "min",
    "max",
    "freshness_hours",
    "quantile_ks",
    "category_shift",
    "segment_percent",
)
STRATEGIES = ("calibrated", "threshold", "statistical")
SEASONALITIES = ("auto", "weekly", "daily", "off")
# Severities lowest first (the contract's order); a finding is graded low, medium or high, never "none".
GRADED_SEVERITIES = SEVERITIES[1:]


def severity_rank(severity: str) -> int:
    """0 for none, 1 low, 2 medium, 3 high: so "the worst severity" is a max()."""
    return SEVERITIES.index(severity)


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


DIRECTIONS = ("both", "up", "down")
TABLE_OVERRIDES = ("runs_per_false_alarm", "history_window", "warmup_runs", "seasonality")


@dataclass(frozen=True)
class ColumnRules:
    """What a column's alarms are limited to: metrics never graded, and the direction that alarms."""

    ignore_metrics: frozenset[str] = frozenset()
    direction: str = "both"
    ignore: bool = False


@dataclass(frozen=True)
class TableRules:
    """drift_detection.tables[i]: a [schema.]table pattern (globs), calibrated settings for it, and rules
    for the table (row_count included) and for named columns."""

    schema: str | None
    table: str
    settings: tuple[tuple[str, Any], ...] = ()
    default: ColumnRules = ColumnRules()
    columns: tuple[tuple[str, ColumnRules], ...] = ()

    def matches(self, schema: str | None, table: str) -> bool:
        if self.schema is not None and (schema or "").lower() != self.schema.lower():
            return False
        return fnmatch.fnmatchcase(table.lower(), self.table.lower())

    def column(self, name: str) -> ColumnRules:
        for column, rules in self.columns:
            if column.lower() == name.lower():
                return ColumnRules(
                    self.default.ignore_metrics | rules.ignore_metrics,
                    rules.direction if rules.direction != "both" else self.default.direction,
                    rules.ignore,
                )
        return self.default


NO_RULES = TableRules(None, "*")


@dataclass(frozen=True)
class DriftSettings:
    strategy: str = "calibrated"
    # calibrated: at most one run in this many of a normal table alarms at medium or above.
    runs_per_false_alarm: int = 30
    history_window: int = 35  # clean runs in a calibrated baseline
    warmup_runs: int = 7  # clean runs before every metric is graded (before: gross changes only)
    seasonality: str = "auto"  # auto (from the runs' cadence and history), weekly, daily, off
    # Relative change in percent, for metrics away from zero.
    thresholds: dict[str, float] = field(default_factory=lambda: {"low": 5.0, "medium": 15.0, "high": 30.0})
    # Absolute change, for percentages (in points) and for metrics whose baseline is near zero.
    absolute_thresholds: dict[str, float] = field(default_factory=lambda: {"low": 1.0, "medium": 5.0, "high": 10.0})
    # |z| at which each severity starts (statistical strategy).
    z_thresholds: dict[str, float] = field(default_factory=lambda: {"low": 3.0, "medium": 4.0, "high": 6.0})
    min_history: int = 5
    moving_average_window: int = 7
    near_zero: float = 1e-9
    tables: tuple[TableRules, ...] = ()  # per-table and per-column overrides, first match wins

    def for_table(self, schema: str | None, table: str) -> tuple[DriftSettings, TableRules]:
        """The settings and rules for one table: the first matching `tables` entry over the defaults."""
        for rules in self.tables:
            if rules.matches(schema, table):
                return dataclasses.replace(self, **dict(rules.settings)), rules
        return self, NO_RULES


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


def parse_drift(data: Any, shown: str) -> DriftSettings:
    if data is None:
        return DriftSettings()
    allowed = {
        "strategy",
        "thresholds",
        "absolute_thresholds",
        "z_thresholds",
        "min_history",
        "moving_average_window",
        "near_zero",
        "runs_per_false_alarm",
        "history_window",
        "warmup_runs",
        "seasonality",
        "tables",
    }
    mapping(data, shown, "drift_detection", allowed)
    defaults = DriftSettings()
    strategy = data.get("strategy", defaults.strategy)
    if strategy not in STRATEGIES:
        raise ConfigError(shown, "drift_detection.strategy", f"must be one of {', '.join(STRATEGIES)}")
    values: dict[str, Any] = {"strategy": strategy}
    for name in ("thresholds", "absolute_thresholds", "z_thresholds"):
        values[name] = _severity_levels(data.get(name), getattr(defaults, name), shown, f"drift_detection.{name}")
    for name in ("min_history", "moving_average_window", "runs_per_false_alarm", "history_window", "warmup_runs"):
        values[name] = positive_int(data, name, getattr(defaults, name), shown, "drift_detection")
    seasonality = data.get("seasonality", defaults.seasonality)
    if seasonality not in SEASONALITIES:
        raise ConfigError(shown, "drift_detection.seasonality", f"must be one of {', '.join(SEASONALITIES)}")
    values["seasonality"] = seasonality
    values["tables"] = _table_rules(data.get("tables"), shown)
    values["near_zero"] = non_negative_number(data, "near_zero", defaults.near_zero, shown, "drift_detection")
    return DriftSettings(**values)


def _severity_levels(data: Any, default: dict[str, float], shown: str, key: str) -> dict[str, float]:
    if data is None:
        return dict(default)
    mapping(data, shown, key, set(GRADED_SEVERITIES))
    levels = dict(default)
    for name, value in data.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(shown, f"{key}.{name}", "must be a number of at least 0")
        levels[name] = float(value)
    if not levels["low"] <= levels["medium"] <= levels["high"]:
        raise ConfigError(shown, key, "must satisfy low <= medium <= high")
    return levels


def _table_rules(data: Any, shown: str) -> tuple[TableRules, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise ConfigError(shown, "drift_detection.tables", "must be a list of {table, ...}")
    return tuple(table_rules(item, shown, f"drift_detection.tables[{index}]") for index, item in enumerate(data))


# The keys of a drift_detection.tables entry besides its table and schema: a table's drift overrides.
DRIFT_RULE_KEYS = ("columns", "ignore_metrics", "direction", *TABLE_OVERRIDES)


def table_rules(item: Any, shown: str, key: str) -> TableRules:
    """One drift_detection.tables entry (also a dbt node's `drift` meta, with its table and schema)."""
    mapping(item, shown, key, {"table", "schema", *DRIFT_RULE_KEYS})
    name = item.get("table")
    if not isinstance(name, str) or not name:
        raise ConfigError(shown, f"{key}.table", "required, a [schema.]table name (globs allowed)")
    schema = item.get("schema")
    if schema is None and "." in name:
        schema, _, name = name.rpartition(".")
    if schema is not None and not isinstance(schema, str):
        raise ConfigError(shown, f"{key}.schema", "must be a string")
    overrides: list[tuple[str, Any]] = []
    for option in ("runs_per_false_alarm", "history_window", "warmup_runs"):
        if option in item:
            overrides.append((option, positive_int(item, option, 1, shown, key)))
    if "seasonality" in item:
        if item["seasonality"] not in SEASONALITIES:
            raise ConfigError(shown, f"{key}.seasonality", f"must be one of {', '.join(SEASONALITIES)}")
        overrides.append(("seasonality", item["seasonality"]))
    columns = item.get("columns") or {}
    if not isinstance(columns, dict):
        raise ConfigError(shown, f"{key}.columns", "must be a mapping of column name to rules")
    column_rules = tuple(
        (str(column), _column_rules(rules, shown, f"{key}.columns.{column}", column=True))
        for column, rules in columns.items()
    )
    default = _column_rules({k: item[k] for k in ("ignore_metrics", "direction") if k in item}, shown, key)
    return TableRules(schema, name, tuple(overrides), default, column_rules)


def _column_rules(data: Any, shown: str, key: str, *, column: bool = False) -> ColumnRules:
    if data is None:
        data = {}
    mapping(data, shown, key, {"ignore_metrics", "direction", "ignore"} if column else {"ignore_metrics", "direction"})
    ignored = data.get("ignore_metrics", [])
    if not isinstance(ignored, list) or not all(isinstance(m, str) for m in ignored):
        raise ConfigError(shown, f"{key}.ignore_metrics", "must be a list of metric names")
    unknown = sorted(set(ignored) - set(DRIFT_METRIC_NAMES))
    if unknown:
        raise ConfigError(
            shown,
            f"{key}.ignore_metrics",
            f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(DRIFT_METRIC_NAMES)})",
        )
    direction = data.get("direction", "both")
    if direction not in DIRECTIONS:
        raise ConfigError(shown, f"{key}.direction", f"must be one of {', '.join(DIRECTIONS)}")
    ignore = data.get("ignore", False)
    if not isinstance(ignore, bool):
        raise ConfigError(shown, f"{key}.ignore", "must be true or false")
    return ColumnRules(frozenset(ignored), direction, ignore)
