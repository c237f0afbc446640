"""Freshness SLAs, in the spirit of dbt's `source freshness`: `freshness: {warn_after: 6h, error_after:
24h}` on a profiling.tables entry, at the top of `profiling` (every table's default) and in `monitor`
(the default of the tables a metadata pass watches). A run whose `freshness_hours` is past a limit is a
drift event: warn_after -> medium, error_after -> high (docs/guides/MONITORING.md)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from profilemesh.config.values import mapping
from profilemesh.errors import ConfigError

# The table-level metric (results.column_name '') both graded by the calibrated strategy and held to the
# SLA: hours since the newest row's time (a profile run with a time_column) or since the table last
# changed (a metadata pass).
FRESHNESS_METRIC = "freshness_hours"
# The severity of each limit's breach, documented in docs/guides/MONITORING.md.
SLA_SEVERITIES = (("error_after", "high"), ("warn_after", "medium"))

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|second|m|min|minute|h|hour|d|day|w|week)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class FreshnessSLA:
    """How stale a table may be before it warns (medium) or errs (high); either may be unset."""

    warn_after: dt.timedelta | None = None
    error_after: dt.timedelta | None = None

    def breach(self, lag_hours: float) -> tuple[str, str, float] | None:
        """(limit name, severity, limit in hours) of the worst limit `lag_hours` is past, or None."""
        for name, severity in SLA_SEVERITIES:
            limit = getattr(self, name)
            if limit is not None and lag_hours > limit.total_seconds() / 3600:
                return name, severity, limit.total_seconds() / 3600
        return None

    def describe(self) -> dict[str, float]:
        return {
            f"{name}_hours": limit.total_seconds() / 3600
            for name, limit in (("warn_after", self.warn_after), ("error_after", self.error_after))
            if limit is not None
        }


def parse_duration(value: Any, shown: str, key: str) -> dt.timedelta:
    """`6h`, `30m`, `1d`, `2 weeks`, `90 minutes`; dbt's `{count: 6, period: hour}` too."""
    if isinstance(value, dict):
        mapping(value, shown, key, {"count", "period"})
        count, period = value.get("count"), str(value.get("period", ""))
        if isinstance(count, int | float) and not isinstance(count, bool):
            value = f"{count} {period}"
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            amount = float(match.group(1))
            unit = _UNITS[match.group(2)[0].lower()]
            if amount > 0:
                return dt.timedelta(**{unit: amount})
    raise ConfigError(shown, key, "must be a duration above 0, such as 30m, 6h, 1d or 2 weeks")


def parse_freshness(value: Any, shown: str, key: str) -> FreshnessSLA | None:
    """A `freshness:` mapping; None when absent. error_after must not be sooner than warn_after."""
    if value is None:
        return None
    mapping(value, shown, key, {"warn_after", "error_after"})
    if not value:
        raise ConfigError(shown, key, "needs warn_after, error_after or both")
    limits = {
        name: parse_duration(value[name], shown, f"{key}.{name}") if value.get(name) is not None else None
        for name in ("warn_after", "error_after")
    }
    warn, error = limits["warn_after"], limits["error_after"]
    if warn is not None and error is not None and error < warn:
        raise ConfigError(shown, key, "error_after must not be sooner than warn_after")
    return FreshnessSLA(warn_after=warn, error_after=error)


def lag_hours(newest: dt.date | dt.datetime, now: dt.datetime) -> float:
    """Hours from `newest` to `now` (naive UTC). A zoned time is converted to UTC, a naive one is taken
    as UTC, and a date counts from its midnight (as dbt's source freshness casts it)."""
    if not isinstance(newest, dt.datetime):
        newest = dt.datetime.combine(newest, dt.time())
    if newest.tzinfo is not None:
        newest = newest.astimezone(dt.UTC).replace(tzinfo=None)
    return round((now - newest).total_seconds() / 3600, 6)
