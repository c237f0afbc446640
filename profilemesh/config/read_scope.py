"""What a run reads of a table, as the config says it: profiling.tables[].where, columns /
exclude_columns, sample, time_column and window, and the buckets of an incremental table (granularity,
lookback, timezone); columns, exclude_columns, sample, granularity, lookback and timezone also at the
top of `profiling`, as every table's default. Validated here; read by profiling/scope.py,
profiling/buckets.py and the planner."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from profilemesh.config.values import mapping
from profilemesh.errors import ConfigError


@dataclass(frozen=True)
class Sample:
    """profiling.sample: a share of the rows (`percent`) or a number of them (`rows`), drawn by the
    warehouse's own sampling; `seed` makes the draw repeatable where the warehouse supports one."""

    percent: float | None = None
    rows: int | None = None
    seed: int | None = None

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in (("percent", self.percent), ("rows", self.rows), ("seed", self.seed)) if v is not None}


@dataclass(frozen=True)
class Window:
    """profiling.tables[].window over the table's time_column: the rows newer than the previous run
    read (`since_last_run`), or the last span of the data (`{last: 1 day}`: rows within a day of the
    newest row). `text` is the setting as written, recorded with the run."""

    text: str = "since_last_run"
    last: dt.timedelta | None = None


GRANULARITIES = ("day", "hour")

_SPAN = re.compile(r"^\s*(\d+)\s*(minute|hour|day|week)s?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ReadScope:
    """What a run reads of a table: a row filter (trusted SQL, like a dbt model's), the columns by glob,
    and a sample. Empty: every row and column."""

    where: str | None = None
    columns: tuple[str, ...] = ()
    exclude_columns: tuple[str, ...] = ()
    sample: Sample | None = None
    time_column: str | None = None
    window: Window | None = None  # set with time_column (since_last_run by default)
    # Each day or hour of the time_column profiled as its own point (profiling/buckets.py); a default
    # from the top level applies to the tables that name a time_column.
    granularity: str | None = None
    lookback: int = 0  # the last N complete buckets re-profiled on every run (late rows)
    timezone: str | None = None  # where a zoned column's buckets are cut (IANA name; UTC when unset)

    @property
    def bucketed(self) -> bool:
        return bool(self.time_column and self.granularity)

    def describe(self) -> dict[str, Any] | None:
        """As recorded with the run (runs.scope), None for a full read."""
        described: dict[str, Any] = {}
        if self.where:
            described["where"] = self.where
        if self.columns:
            described["columns"] = list(self.columns)
        if self.exclude_columns:
            described["exclude_columns"] = list(self.exclude_columns)
        if self.sample:
            described["sample"] = self.sample.describe()
        if self.time_column and self.window:
            described["time_column"] = self.time_column
            described["window"] = self.window.text
        if self.bucketed:  # a day's point and an hour's are two histories (lookback changes no point)
            described["granularity"] = self.granularity
            if self.timezone:
                described["timezone"] = self.timezone
        return described or None

    def keeps(self, column: str) -> bool:
        """Whether a column is read: it matches a `columns` glob (when there are any) and no
        `exclude_columns` glob; globs match case-insensitively."""
        name = column.lower()
        if self.columns and not any(fnmatch.fnmatchcase(name, g.lower()) for g in self.columns):
            return False
        return not any(fnmatch.fnmatchcase(name, g.lower()) for g in self.exclude_columns)


FULL_READ = ReadScope()


SCOPE_KEYS = (
    "where",
    "columns",
    "exclude_columns",
    "sample",
    "time_column",
    "window",
    "granularity",
    "lookback",
    "timezone",
)


def read_scope(
    item: Mapping[str, Any], shown: str, key: str, defaults: ReadScope, *, allow_where: bool = True
) -> ReadScope:
    """A table's (or the top level's) read scope; what it does not set comes from `defaults`."""
    where = item.get("where")
    if where is not None and (not allow_where or not isinstance(where, str) or not where.strip()):
        reason = "is set per table (a predicate names one table's columns)" if not allow_where else "must be SQL text"
        raise ConfigError(shown, f"{key}.where", reason)
    globs = {}
    for name in ("columns", "exclude_columns"):
        value = item.get(name)
        if value is None:
            globs[name] = getattr(defaults, name)
            continue
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(g, str) and g for g in value):
            raise ConfigError(shown, f"{key}.{name}", "must be a column name or glob, or a list of them")
        globs[name] = tuple(value)
    sample = _sample(item["sample"], shown, f"{key}.sample") if item.get("sample") is not None else defaults.sample
    time_column, window = item.get("time_column"), item.get("window")
    if time_column is not None and (not allow_where or not isinstance(time_column, str) or not time_column.strip()):
        reason = "is set per table" if not allow_where else "must be a column name"
        raise ConfigError(shown, f"{key}.time_column", reason)
    if window is not None and time_column is None and defaults.time_column is None:
        raise ConfigError(shown, f"{key}.window", "needs time_column: the column whose values place a row in time")
    inherited = time_column is None and window is None
    read_window = defaults.window if inherited else _window(window, shown, f"{key}.window")
    has_time_column = time_column is not None or defaults.time_column is not None
    granularity, lookback, timezone = _buckets(item, shown, key, defaults, per_table=allow_where)
    if "granularity" in item and allow_where and not has_time_column:
        raise ConfigError(
            shown, f"{key}.granularity", "needs time_column: the column whose values place a row in a bucket"
        )
    if granularity and has_time_column and read_window is not None and read_window.last is not None:
        raise ConfigError(
            shown,
            f"{key}.window",
            f"{read_window.text} and granularity both choose the rows: with granularity, each run reads the "
            "buckets after the last one profiled (lookback: N re-reads the last N)",
        )
    return ReadScope(
        where=where.strip() if where else defaults.where,
        columns=globs["columns"],
        exclude_columns=globs["exclude_columns"],
        sample=sample,
        time_column=time_column.strip() if time_column else defaults.time_column,
        window=read_window,
        granularity=granularity,
        lookback=lookback,
        timezone=timezone,
    )


def _buckets(
    item: Mapping[str, Any], shown: str, key: str, defaults: ReadScope, *, per_table: bool
) -> tuple[str | None, int, str | None]:
    """granularity, lookback and timezone: the item's own, else the defaults'. A table's own lookback or
    timezone needs a granularity (its own or the default); at the top level they are defaults."""
    granularity = item.get("granularity", defaults.granularity)
    if granularity is not None and granularity not in GRANULARITIES:
        raise ConfigError(shown, f"{key}.granularity", f"must be one of {', '.join(GRANULARITIES)}")
    lookback = item.get("lookback", defaults.lookback)
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 0:
        raise ConfigError(shown, f"{key}.lookback", "must be a whole number of buckets, 0 or more")
    timezone = item.get("timezone", defaults.timezone)
    if timezone is not None and (not isinstance(timezone, str) or not _is_zone(timezone)):
        raise ConfigError(shown, f"{key}.timezone", "must be an IANA time zone name, such as UTC or Europe/Paris")
    for name in ("lookback", "timezone"):
        if per_table and name in item and granularity is None:
            raise ConfigError(shown, f"{key}.{name}", "applies to buckets: needs granularity (day or hour)")
    return granularity, lookback, timezone


def _is_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _window(value: Any, shown: str, key: str) -> Window:
    if value is None or value == "since_last_run":
        return Window()
    if isinstance(value, dict) and set(value) == {"last"} and isinstance(value["last"], str):
        match = _SPAN.match(value["last"])
        if match:
            amount, unit = int(match.group(1)), match.group(2).lower()
            if amount > 0:
                return Window(
                    text=f"last {amount} {unit}{'s' if amount > 1 else ''}", last=dt.timedelta(**{f"{unit}s": amount})
                )
    raise ConfigError(shown, key, "must be since_last_run or {last: N minutes|hours|days|weeks}")


def _sample(value: Any, shown: str, key: str) -> Sample:
    mapping(value, shown, key, {"percent", "rows", "seed"})
    percent, rows, seed = value.get("percent"), value.get("rows"), value.get("seed")
    if (percent is None) == (rows is None):
        raise ConfigError(shown, key, "needs one of percent (0-100] or rows (a whole number)")
    if percent is not None and (
        isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 < percent <= 100
    ):
        raise ConfigError(shown, f"{key}.percent", "must be a number above 0 and at most 100")
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 1):
        raise ConfigError(shown, f"{key}.rows", "must be a whole number of rows, 1 or more")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(shown, f"{key}.seed", "must be a whole number, 0 or more")
    return Sample(percent=None if percent is None else float(percent), rows=rows, seed=seed)
