"""Section 6: the cold start of the quick commands, side by side in one run.

    python benchmarks/cold_start.py [--repeat 10] [--quick]

On a small DuckDB store at head (the quickstart's size: a few hundred runs), each a new process:
- the floor: `python -c pass`;
- the database's own client: the `duckdb` Python module reading the runs view (`python -c`, as in section 3);
- `profilemesh query runs`, `profilemesh migrate status`, `profilemesh --version`;
- what each of the heavy imports costs on its own (`python -c "import X"`), to say where the time goes.

Target (issue 13): `query runs` and `migrate status` at most 0.25 s above bare Python.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import stores
from harness import markdown_table, met, print_section, section_parser

TARGET = 0.25  # seconds above `python -c pass`
IMPORTS = ("click", "yaml", "tabulate", "sqlalchemy", "duckdb", "duckdb_engine", "profilemesh.api", "dbt.cli.main")


def _store(directory: Path, runs: int) -> stores.BenchStore:
    store = stores.new_migrated_store("duckdb", directory, None)
    stores.fill_store(store, runs=runs, results_per_run=10, tables=20)
    return store


def cold_start_report(*, repeat: int, runs: int = 300) -> tuple[str, list[list[object]]]:
    """Markdown for section 6, and its targets rows."""
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="pm-bench-cold-") as tmp:
        store = _store(Path(tmp) / "duckdb", runs)
        bare = stores.median(lambda: stores.run([python, "-c", "pass"]), repeat)
        native_sql = f'SELECT * FROM "{stores.SCHEMA}"."profilemesh_runs_v" ORDER BY profiled_at DESC LIMIT 100'
        native = stores.median(lambda: stores.run(store.native_argv([native_sql])), repeat)
        rows: list[list[object]] = [
            ["python -c pass (the floor)", bare, "", ""],
            ["duckdb module reading the runs view (the database's own client)", native, f"+{native - bare:.3f} s", ""],
        ]
        targets = []
        for args, targeted in (
            (("query", "runs"), True),
            (("migrate", "status"), True),
            (("query", "table", "--table", "table_000000001"), False),
        ):
            argv = store.cli_argv(*args)
            seconds = stores.median(lambda argv=argv: stores.run(argv), repeat)
            above = seconds - bare
            rows.append(
                [f"profilemesh {' '.join(args)}", seconds, f"+{above:.3f} s", met(above <= TARGET) if targeted else ""]
            )
            if targeted:
                targets.append(
                    [f"cold start: profilemesh {' '.join(args)} ≤ +{TARGET} s over bare Python", f"+{above:.3f} s",
                     met(above <= TARGET), "" if above <= TARGET else "see the imports in section 6"]
                )  # fmt: skip
        version = stores.median(lambda: stores.run([str(stores.BIN / "profilemesh"), "--version"]), repeat)
        rows.append(
            ["profilemesh --version (the command group, nothing loaded)", version, f"+{version - bare:.3f} s", ""]
        )
        imports = []
        for module in IMPORTS:
            seconds = stores.median(lambda module=module: stores.run([python, "-c", f"import {module}"]), repeat)
            imports.append([f"import {module}", seconds, f"+{seconds - bare:.3f} s"])
    text = "\n\n".join(
        [
            f"A DuckDB store at head with {runs:,} runs; each figure the median of {repeat} fresh processes after a "
            "warm-up, in the same run.",
            markdown_table(["command", "median s", "above bare Python", f"target ≤ +{TARGET} s"], rows),
            "What the imports cost on their own (each a fresh process; they overlap: duckdb_engine imports "
            "SQLAlchemy and duckdb, profilemesh.api imports SQLAlchemy):",
            markdown_table(["import", "median s", "above bare Python"], imports),
        ]
    )
    return text, targets


def main() -> None:
    parser = section_parser(__doc__, repeat=10)
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    if args.quick:
        stores.WARMUP = 0
    text, targets = cold_start_report(repeat=repeat, runs=50 if args.quick else 300)
    stores.drop_templates()
    print_section(text, targets)


if __name__ == "__main__":
    main()
