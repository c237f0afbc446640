"""The quickstart's demo warehouse: a small shop (customers, orders, events) in a DuckDB file, as it
stands after each of N simulated daily loads.

Every table is rebuilt set-based in DuckDB SQL for a given day. The data is a pure function of the
seed and the day: each value comes from a hash of (seed, row, day, salt) scaled to [0, 1) (no random
state, so the same seed gives the same warehouse, in parallel or not, for a given DuckDB version).
Proportions that the drift metrics read as percentages (anonymous events, platforms) are assigned
by row number rather than drawn, so a percentage never moves by sampling noise alone.

Ordinary change, kept below the drift thresholds' lowest level (5 % relative, 1 point for
percentages) day over day and against a 7-day moving average:
- customers grows by 20 a day (0.5 %), orders by about 300 a day (0.6 %, +-10 %),
- events (yesterday's clickstream) is about 20,000 rows with a 1.5 % weekly swing and 0.5 % noise.

Injected incidents, each starting on its day and never fixed (a broken pipeline nobody noticed):
- a mean shift: from day 6 the orders load converts amount twice (x1.35 on every row);
- a null spike: from day 9 a broken join leaves customers.email empty for 15 % of customers (1 % before);
- a row drop: from day 12 the mobile apps' events stop arriving (about half of events).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb

SEED = 42  # below 9,000,000, so the hash input below fits a BIGINT
DAYS = 14
SCHEMA = "shop"
TABLES = ("customers", "orders", "events")

BASE_CUSTOMERS = 4000
NEW_CUSTOMERS_PER_DAY = 20
BASE_ORDERS = 50000
ORDERS_PER_DAY = 300
EVENTS_PER_DAY = 20000
EVENT_ID_BASE = 10_000_000
START_DATE = dt.date(2024, 6, 1)  # the warehouse's own calendar; the runs carry the real dates


@dataclass(frozen=True)
class Incident:
    day: int
    table: str
    column: str | None  # None: the whole table (its row count)
    kind: str
    description: str


INCIDENTS = (
    Incident(6, "orders", "amount", "mean shift", "amount converted twice: every amount x1.35"),
    Incident(9, "customers", "email", "null spike", "a broken join leaves email empty for 15% of customers"),
    Incident(12, "events", None, "row drop", "the mobile apps' events stop arriving: about half the rows are missing"),
)
MEAN_SHIFT_DAY, NULL_SPIKE_DAY, ROW_DROP_DAY = (i.day for i in INCIDENTS)

# u(row, day, salt): a uniform number in [0, 1). One BIGINT goes into hash() (a 64-bit mixer): DuckDB
# combines the hashes of several arguments so weakly that u(i, d, 1) and u(i, d, 4) correlate at 0.88.
# row < 10^8, day and salt < 100; the seed is an integer, so it can be inlined.
_MACRO = (
    "CREATE OR REPLACE TEMP MACRO u(row, day, salt) AS "
    "hash((({seed:d}::BIGINT * 100 + day) * 100 + salt) * 100000000 + row) / 18446744073709551615.0"
)

_CUSTOMERS = f"""
CREATE OR REPLACE TABLE {SCHEMA}.customers AS
SELECT
    i::INTEGER AS customer_id,
    CASE WHEN u(i, 0, 1) < $email_null_rate THEN NULL ELSE 'customer' || i || '@example.com' END AS email,
    ['US', 'DE', 'FR', 'GB', 'NL', 'ES', 'IT', 'SE', 'PL', 'CA', 'AU', 'JP'][1 + floor(u(i, 0, 2) * 12)::INTEGER]
        AS country,
    CASE WHEN u(i, 0, 3) < 0.2 THEN 'business' ELSE 'consumer' END AS segment,
    CASE WHEN i <= $base_customers
        THEN $start_date - floor(u(i, 0, 4) * 730)::INTEGER
        ELSE $start_date + ((i - $base_customers - 1) // $new_per_day + 1)::INTEGER
    END AS signup_date,
    round(500 + 4500 * u(i, 0, 5), 2)::DECIMAL(10, 2) AS credit_limit
FROM range(1, $customers + 1) AS r(i)
"""

_ORDERS = f"""
CREATE OR REPLACE TABLE {SCHEMA}.orders AS
SELECT
    k::BIGINT AS order_id,
    (1 + floor(u(k, 0, 1) * $base_customers))::INTEGER AS customer_id,
    CASE WHEN k <= $base_orders
        THEN $start_date - floor(u(k, 0, 2) * 90)::INTEGER
        ELSE $start_date + $day
    END AS order_date,
    round((5 + 295 * (u(k, 0, 3) + u(k, 0, 4) + u(k, 0, 5)) / 3) * $amount_factor, 2)::DECIMAL(10, 2) AS amount,
    (1 + floor(u(k, 0, 6) * 5))::INTEGER AS quantity,
    CASE
        WHEN u(k, 0, 7) < 0.80 THEN 'delivered'
        WHEN u(k, 0, 7) < 0.92 THEN 'shipped'
        WHEN u(k, 0, 7) < 0.97 THEN 'returned'
        ELSE 'cancelled'
    END AS status,
    CASE WHEN u(k, 0, 8) < 0.55 THEN 'web' WHEN u(k, 0, 8) < 0.90 THEN 'app' ELSE 'store' END AS channel
FROM range(1, $orders + 1) AS r(k)
"""

_EVENTS = f"""
CREATE OR REPLACE TABLE {SCHEMA}.events AS
WITH generated AS (
    SELECT
        ($event_base + i)::BIGINT AS event_id,
        CASE WHEN i % 10 < 3 THEN NULL ELSE (1 + floor(u(i, $day, 2) * $base_customers))::INTEGER END AS user_id,
        CASE
            WHEN u(i, $day, 3) < 0.60 THEN 'page_view'
            WHEN u(i, $day, 3) < 0.80 THEN 'add_to_cart'
            WHEN u(i, $day, 3) < 0.95 THEN 'search'
            ELSE 'checkout'
        END AS event_type,
        ['web', 'web', 'ios', 'android'][1 + (i // 10) % 4] AS platform,
        ($start_date + $day - 1)::TIMESTAMP + to_seconds(floor(u(i, $day, 5) * 86400)::BIGINT) AS occurred_at,
        (50 + floor(2000 * u(i, $day, 6) * u(i, $day, 7)))::INTEGER AS duration_ms
    FROM range(1, $events + 1) AS r(i)
)
SELECT * FROM generated WHERE $mobile_arrives OR platform = 'web'
"""


def day_counts(day: int) -> dict[str, int]:
    """Rows generated for the day (before any incident): deterministic, with a little noise."""
    orders = BASE_ORDERS + sum(ORDERS_PER_DAY + (j * 37 % 61) - 30 for j in range(1, day + 1))
    swing = 1 + 0.015 * math.sin(2 * math.pi * day / 7) + ((day * 53 % 11) - 5) / 1000
    return {
        "customers": BASE_CUSTOMERS + NEW_CUSTOMERS_PER_DAY * day,
        "orders": orders,
        "events": round(EVENTS_PER_DAY * swing),
    }


def _quote(name: str) -> str:
    """The DuckDB dialect's identifier quoting (the demo's names are constants, but quoted all the same)."""
    from duckdb_engine import Dialect

    return Dialect().identifier_preparer.quote(name)


def load_day(path: Path, day: int, seed: int = SEED) -> dict[str, int]:
    """Rebuild the warehouse as it stands after day `day`'s load; returns each table's row count.

    Opens the file itself and closes it before returning (the profiler opens it read-only next)."""
    counts = day_counts(day)
    common = {"start_date": START_DATE, "base_customers": BASE_CUSTOMERS}
    conn = duckdb.connect(str(path))
    try:
        conn.execute("SET enable_progress_bar = false")  # DuckDB would print it to stdout past 2 s
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(SCHEMA)}")
        conn.execute(_MACRO.format(seed=int(seed)))
        conn.execute("BEGIN")
        conn.execute(
            _CUSTOMERS,
            {
                **common,
                "customers": counts["customers"],
                "new_per_day": NEW_CUSTOMERS_PER_DAY,
                "email_null_rate": 0.15 if day >= NULL_SPIKE_DAY else 0.01,
            },
        )
        conn.execute(
            _ORDERS,
            {
                **common,
                "orders": counts["orders"],
                "base_orders": BASE_ORDERS,
                "day": day,
                "amount_factor": 1.35 if day >= MEAN_SHIFT_DAY else 1.0,
            },
        )
        conn.execute(
            _EVENTS,
            {
                **common,
                "events": counts["events"],
                "day": day,
                "event_base": EVENT_ID_BASE + day * 25000,
                "mobile_arrives": day < ROW_DROP_DAY,
            },
        )
        conn.execute("COMMIT")
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {_quote(SCHEMA)}.{_quote(table)}").fetchone()[0])  # type: ignore[index]
            for table in TABLES
        }
    finally:
        conn.close()
