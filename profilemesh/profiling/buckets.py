"""The buckets of a table profiled with `granularity` (docs/guides/PROFILING.md, "Buckets"): which days
or hours a run profiles, where they are cut, and how each is recorded as its own point in history.

A bucket is known by its start in the wall time it is cut in (`local`): the zone's (`timezone`, UTC by
default) for a column with a time zone, the values as stored for a timestamp without one or a date.
Each bucket is one run row whose profiled_at is the bucket's start (naive UTC, as the store keeps
time), so every reader that orders a table's runs by profiled_at orders its buckets by their time.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from profilemesh.config.read_scope import ReadScope
from profilemesh.errors import UsageError
from profilemesh.profiling.columns import ProfiledColumn
from profilemesh.profiling.planner import Buckets, TimeWindow

STEP = {"day": dt.timedelta(days=1), "hour": dt.timedelta(hours=1)}
# Each bucket's run id: derived from the invocation's run id and the bucket, so one invocation's buckets
# of one table are distinct runs (runs are keyed by run_id, schema and table) and the same on a replay.
BUCKET_RUN_NAMESPACE = uuid.UUID("0b6c2f4e-3d1a-4f5e-9b7c-6275636b6574")


def parse_since(text: str) -> dt.date:
    """`profile --since`: a date (YYYY-MM-DD), or a timestamp whose date is taken."""
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise UsageError(f"--since {text!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class Bucket:
    local: dt.datetime  # its start, in the wall time it is cut in (the key the GROUP BY returns)
    start: Any  # its bounds as bound against the column: aware UTC, naive, or a date
    end: Any
    profiled_at: dt.datetime  # its start as naive UTC: the run's profiled_at
    label: str  # 2026-11-30, or 2026-11-30T05:00 for an hour

    def window(self, column: str) -> TimeWindow:
        return TimeWindow(column, self.start, self.end, half_open=True)

    def recorded(self) -> dict[str, Any]:
        """runs.scope.read of the bucket's run: its bounds [start, end) and its label."""
        return {"start": _iso(self.start), "end": _iso(self.end), "bucket": self.label}

    def run_id(self, run_id: str, schema: str | None, table: str) -> str:
        return str(uuid.uuid5(BUCKET_RUN_NAMESPACE, f"{run_id}\0{schema or ''}\0{table}\0{self.label}"))


@dataclass(frozen=True)
class BucketSpan:
    """What a bucketed run reads: its buckets, oldest first (empty: nothing complete to profile), the
    grouping the planner pushes down, and the one window around them all."""

    buckets: list[Bucket]
    grouping: Buckets
    newest_row: Any  # max(time_column), for freshness

    @property
    def window(self) -> TimeWindow:
        first, last = self.buckets[0], self.buckets[-1]
        return TimeWindow(self.grouping.column, first.start, last.end, half_open=True)


def bucket_span(
    scope: ReadScope,
    table: str,
    column: ProfiledColumn,
    newest_row: Any,
    *,
    now: dt.datetime,
    since: dt.date | None,
    previous: str | None,
) -> BucketSpan:
    """The buckets a run profiles: from `--since`, else after the newest bucket profiled before
    (`previous`, its label), else the newest complete bucket alone; and always the last `lookback`
    complete buckets. The current bucket (the one holding `now`) is incomplete and waits."""
    unit = scope.granularity or "day"
    is_date = _is_date_column(column, newest_row)
    if is_date and unit != "day":
        raise UsageError(f"table {table}: time_column {column.name} holds dates, so granularity must be day")
    zoned = _is_zoned(column, newest_row)
    if scope.timezone and not zoned:
        raise UsageError(
            f"table {table}: timezone applies to a column with a time zone; {column.name} is {column.type_name}, "
            "whose buckets are cut on its values as stored"
        )
    zone = zoneinfo.ZoneInfo(scope.timezone or "UTC") if zoned else None
    step = STEP[unit]
    current = _truncate(_local(now, zone), unit)
    last = current - step  # the newest complete bucket
    if since is not None:
        if since > _local(now, zone).date():
            raise UsageError(f"--since {since.isoformat()} is in the future")
        first = _truncate(dt.datetime.combine(since, dt.time()), unit)
    elif previous is not None:
        first = dt.datetime.fromisoformat(previous) + step
    else:
        first = last
    if scope.lookback:
        first = min(first, last - step * (scope.lookback - 1))
    starts = []
    start = first
    while start <= last:
        starts.append(start)
        start += step
    buckets = [_bucket(s, s + step, zone, is_date, unit) for s in starts]
    grouping = Buckets(column.name, unit, zone.key if zone else None, truncate=not is_date)
    return BucketSpan(buckets, grouping, newest_row)


def bucket_key(value: Any) -> dt.datetime:
    """A bucket as the GROUP BY returns it (a timestamp in the bucket's wall time, a date, or SQLite's text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time())


def _bucket(local: dt.datetime, after: dt.datetime, zone: zoneinfo.ZoneInfo | None, is_date: bool, unit: str) -> Bucket:
    label = local.date().isoformat() if unit == "day" else local.isoformat(timespec="minutes")
    if is_date:
        return Bucket(local, local.date(), after.date(), local, label)
    if zone is None:
        return Bucket(local, local, after, local, label)
    start, end = (t.replace(tzinfo=zone).astimezone(dt.UTC) for t in (local, after))
    return Bucket(local, start, end, start.replace(tzinfo=None), label)


def _local(now: dt.datetime, zone: zoneinfo.ZoneInfo | None) -> dt.datetime:
    """Now (naive UTC) in the buckets' wall time: the zone's, or UTC for values stored without one."""
    return now if zone is None else now.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)


def _truncate(value: dt.datetime, unit: str) -> dt.datetime:
    value = value.replace(minute=0, second=0, microsecond=0)
    return value.replace(hour=0) if unit == "day" else value


def _is_zoned(column: ProfiledColumn, newest_row: Any) -> bool:
    """Whether the column holds instants: the driver returns its values with a zone (the reflected type
    does not always say: DuckDB reflects TIMESTAMPTZ as TIMESTAMP)."""
    if isinstance(newest_row, dt.datetime):
        return newest_row.tzinfo is not None
    return bool(getattr(column.type, "timezone", False))


def _is_date_column(column: ProfiledColumn, newest_row: Any) -> bool:
    if newest_row is not None:
        return isinstance(newest_row, dt.date) and not isinstance(newest_row, dt.datetime)
    return isinstance(column.type, sa.Date) and not isinstance(column.type, sa.DateTime)


def _iso(value: Any) -> str:
    return str(value.isoformat())
