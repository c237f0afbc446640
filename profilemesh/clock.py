"""Time as the store keeps it: naive UTC everywhere (the engine writes UTC too)."""

from __future__ import annotations

import datetime as dt


def utc_now() -> dt.datetime:
    """Now, as naive UTC, like every timestamp in the store."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso_utc(value: dt.datetime) -> str:
    """ISO-8601 with a `Z`: a naive value is UTC; an aware one is converted."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"
