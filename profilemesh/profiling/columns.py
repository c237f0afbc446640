"""Which metrics a column gets, from its reflected SQLAlchemy type (never from substring matching
on type names)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

# Metrics per family, beyond the counts every column gets.
FAMILY_METRICS = {
    "numeric": ("min", "max", "mean", "stddev"),
    "string": ("min_length", "max_length", "mean_length"),
    "temporal": ("min", "max"),
    "boolean": ("true_count",),
    "other": (),
}
COUNT_METRICS = ("count", "null_count", "null_percent")
# A column the warehouse could not aggregate (profiling/runner.py): its metric_value says why. Stored
# like a metric, so the column is still part of the table's schema for drift.
SKIPPED_METRIC = "skipped"
DISTINCT_METRICS = ("distinct_count", "distinct_percent")


@dataclass(frozen=True)
class ProfiledColumn:
    name: str
    type: sa.types.TypeEngine
    family: str
    type_name: str
    # Equality is defined for the type, so COUNT(DISTINCT) works (not for JSON, arrays, ...).
    distinct_supported: bool
    # The type as the warehouse's catalog names it (an enum's own name, `timestamp with time zone`).
    native_type: str | None = None


def column_family(sql_type: sa.types.TypeEngine) -> str:
    if isinstance(sql_type, sa.Boolean):
        return "boolean"
    if isinstance(sql_type, sa.Enum):  # a label set, not text: PostgreSQL has no length() for an enum
        return "other"
    if isinstance(sql_type, sa.Integer | sa.Numeric | sa.Float):
        return "numeric"
    if isinstance(sql_type, sa.JSON | sa.ARRAY):
        return "other"
    if isinstance(sql_type, sa.String):
        return "string"
    if isinstance(sql_type, sa.Date | sa.DateTime | sa.Time):
        return "temporal"
    if type(sql_type).__name__.upper().startswith("TIMESTAMP"):  # Snowflake's TIMESTAMP_NTZ and kin
        return "temporal"
    return "other"


def base_type(sql_type: sa.types.TypeEngine) -> sa.types.TypeEngine:
    """A domain's base type (PostgreSQL's DOMAIN carries it as `data_type`); any other type itself."""
    base = getattr(sql_type, "data_type", None)
    return base_type(base) if isinstance(base, sa.types.TypeEngine) else sql_type


def profiled_column(name: str, sql_type: sa.types.TypeEngine, native_type: str | None = None) -> ProfiledColumn:
    """The column planned by its base type, named by its own (a domain keeps its name)."""
    base = base_type(sql_type)
    family = column_family(base)
    try:
        type_name = str(sql_type)
    except Exception:  # some dialect types cannot render without a dialect
        type_name = type(sql_type).__name__
    distinct_ok = family != "other" or isinstance(base, sa.LargeBinary | sa.Uuid | sa.Enum)
    return ProfiledColumn(
        name=name,
        type=base,
        family=family,
        type_name=type_name[:100],
        distinct_supported=distinct_ok,
        native_type=native_type[:255] if native_type else None,
    )


def metrics_for(column: ProfiledColumn, selected: tuple[str, ...]) -> list[str]:
    wanted = [*COUNT_METRICS, *(DISTINCT_METRICS if column.distinct_supported else ()), *FAMILY_METRICS[column.family]]
    return [m for m in wanted if m in selected]
