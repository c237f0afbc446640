"""The `drift_detection` section of profilemesh.yml, validated strictly: unknown keys and wrong types
are configuration errors naming the key. Also a dbt node's `drift` meta (config/dbt_meta.py)."""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass, field
from typing import Any

from profilemesh.config.values import mapping, non_negative_number, positive_int
from profilemesh.contract import SEVERITIES
from profilemesh.errors import ConfigError

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
