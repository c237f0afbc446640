"""Distributions' cost: what quantiles, histograms, top values (and a segment) add to a table's exact
profile, on DuckDB and PostgreSQL, side by side in one run (target: at most +50 % at 1M rows x 50 columns).

    python benchmarks/distributions.py [--rows 1000000] [--width 50] [--repeat 3] [--quick]
        [--postgres-dsn postgresql://user:pw@127.0.0.1:5432/db]   (none: a throwaway cluster)

The table is section 1's seeded mix (benchmarks/profile_plans.py: integers uniform and skewed, floats,
strings of low and high cardinality, timestamps and booleans, 0/5/50 % NULLs). Measured, each a median
after a warm-up, through the code `profilemesh profile` runs:
- profile: the exact profile today (the planner's statements through `run_plan`);
- profile + distributions: that, then `profile_distributions` with the default settings (quantiles
  exact up to 100,000 rows and approximate above: DuckDB's approx_quantile, PostgreSQL exact quantiles
  of a 100k-row sample; 20-bin histograms; top values of columns with at most 100 distinct values);
- the same with exact quantiles (`quantiles: exact`: one sort per numeric and temporal column);
- the same with `segment_by` on one low-cardinality string column;
- the same with the big-table switch lowered under the table's size (`sample_above_rows: 100,000`):
  quantiles, top values and segments from ONE statement over a block sample of about 100,000 rows
  (the default switch, 10M rows, applies at `--rows` above it), and the same never switching
  (`sample_above_rows: null`: every row read, as before the switch existed).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import machine_info, markdown_table, measure, met, print_section, section_parser
from profile_plans import _engines, copy_to_postgres, generate

from profilemesh.config.settings import METRIC_NAMES, DistributionSettings
from profilemesh.profiling.columns import profiled_column
from profilemesh.profiling.distributions import profile_distributions
from profilemesh.profiling.execute import run_plan
from profilemesh.profiling.planner import plan_table
from profilemesh.warehouses import warehouse_of_dialect

TARGET = 1.5  # profile + distributions, against the profile alone


def _variants(engine: sa.Engine, table: str) -> dict[str, tuple[DistributionSettings | None, tuple[str, ...]]]:
    with engine.connect() as conn:
        columns = [profiled_column(c["name"], c["type"]) for c in sa.inspect(conn).get_columns(table)]
    low = next(c.name for c in columns if c.family == "string")  # column 3: 'category_N', 25 values
    defaults = DistributionSettings()
    return {
        "profile (today)": (None, ()),
        "profile + distributions": (defaults, ()),
        "profile + distributions, quantiles: exact": (dataclasses.replace(defaults, quantiles="exact"), ()),
        f"profile + distributions + segment_by {low}": (defaults, (low,)),
        f"profile + distributions + segment_by {low}, block-sampled (sample_above_rows: 100,000)": (
            dataclasses.replace(defaults, sample_above_rows=100_000),
            (low,),
        ),
        f"profile + distributions + segment_by {low}, every row read (sample_above_rows: null)": (
            dataclasses.replace(defaults, sample_above_rows=None),
            (low,),
        ),
    }


def measure_engine(engine: sa.Engine, table: str, repeat: int) -> dict[str, tuple[float, int]]:
    """Per variant: median seconds and the items it stores."""
    warehouse = warehouse_of_dialect(engine.dialect.name)
    with engine.connect() as conn:
        columns = [profiled_column(c["name"], c["type"]) for c in sa.inspect(conn).get_columns(table)]
    plan = plan_table(None, table, columns, METRIC_NAMES, warehouse=warehouse)
    out = {}
    for label, (settings, segments) in _variants(engine, table).items():
        stored = [0]

        def run(
            settings: DistributionSettings | None = settings,
            segments: tuple[str, ...] = segments,
            stored: list = stored,
        ) -> None:
            with engine.connect() as conn:
                profile = run_plan(conn, plan)
                conn.commit()
                if settings is not None:
                    notes: list[str] = []
                    stored[0] = len(profile_distributions(conn, plan, profile, settings, segments, notes))
                    refused = [note for note in notes if "not profiled" in note]  # a sample's note is no failure
                    if refused:
                        raise RuntimeError(refused[0])

        out[label] = (measure(run, repeat=repeat).median, stored[0])
    return out


def report(*, rows: int, width: int, repeat: int, postgres_dsn: str | None) -> tuple[str, list[list[object]]]:
    table = f"dist_{width}"
    results: dict[str, dict[str, tuple[float, int]]] = {}
    with _engines(postgres_dsn) as (duck, pg):
        generate(duck, table, rows, width)
        copy_to_postgres(duck, pg, table)
        results["DuckDB"] = measure_engine(duck, table, repeat)
        results["PostgreSQL"] = measure_engine(pg, table, repeat)
    lines = []
    targets: list[list[object]] = []
    for engine, measured in results.items():
        base = measured["profile (today)"][0]
        for label, (seconds, items) in measured.items():
            lines.append([engine, label, f"{seconds:.2f}", f"{seconds / base:.2f}x", items or ""])
        added = measured["profile + distributions"][0] / base
        targets.append(
            [
                f"distributions: profile + distributions ≤ {TARGET:.1f}x the exact profile ({engine}, "
                f"{rows:,} rows x {width} columns)",
                f"{added:.2f}x",
                met(added <= TARGET),
                "",
            ]
        )
    text = "\n\n".join(
        [
            f"{rows:,} rows x {width} columns (section 1's mix), median of {repeat} after a warm-up.",
            machine_info(),
            markdown_table(["warehouse", "what runs", "seconds", "vs the profile", "items stored"], lines),
        ]
    )
    return text, targets


def main() -> None:
    parser = section_parser(__doc__, repeat=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--width", type=int, default=50)
    args = parser.parse_args()
    rows, width, repeat = (20_000, 14, 1) if args.quick else (args.rows, args.width, args.repeat)
    text, targets = report(rows=rows, width=width, repeat=repeat, postgres_dsn=args.postgres_dsn)
    print_section(text, targets)


if __name__ == "__main__":
    main()
