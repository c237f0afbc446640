"""`profilemesh quickstart`: the whole product on embedded DuckDB, in one directory.

1. the directory: created, or (when an earlier quickstart made it) started clean;
2. the config file, and `migrate apply` on the empty store (the query views are built with it);
3. 14 simulated days: the warehouse's daily load, a profile of every table, drift detection;
4. the query views' dbt tests;
then the CLI prints `query drift` and `query table`, and the next commands to try.

The runs carry the simulated days' timestamps (the profiler's and the detector's `as_of` inputs),
so the history reads like two weeks of a real pipeline. dbt runs twice (apply, test); profiling and
drift detection are SQLAlchemy, and every engine is disposed before dbt opens the store.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from profilemesh import __version__
from profilemesh.api import Context, detect_drift, migrate_apply, profile
from profilemesh.clock import utc_now
from profilemesh.dbt.session import VIEWS_SELECTOR
from profilemesh.errors import CheckFailed, UsageError
from profilemesh.hooks import NO_HOOKS, Hooks
from profilemesh.quickstart.constants import DEFAULT_DIR
from profilemesh.quickstart.warehouse import DAYS, INCIDENTS, SCHEMA, TABLES, Incident, load_day

MARKER = ".profilemesh-quickstart"
CONFIG_FILE = "profilemesh.yml"
STORE_FILE = "profilemesh.duckdb"
WAREHOUSE_FILE = "warehouse.duckdb"
# Everything a quickstart writes into its directory; a clean start removes these and nothing else.
OWN_FILES = (
    MARKER,
    CONFIG_FILE,
    STORE_FILE,
    f"{STORE_FILE}.wal",
    WAREHOUSE_FILE,
    f"{WAREHOUSE_FILE}.wal",
)

CONFIG_TEXT = f"""\
# Written by `profilemesh quickstart`: a demo warehouse and its ProfileMesh store, both DuckDB files
# in this directory. Point the commands at it with -c (see docs/configuration.md for every key).
environment: quickstart
source:                         # the warehouse to profile
  type: duckdb
  filepath: {WAREHOUSE_FILE}
storage:                        # where ProfileMesh keeps its runs, results and drift events
  connection:
    type: duckdb
    filepath: {STORE_FILE}
    schema: main
profiling:
  tables:
    - {{schema: {SCHEMA}, table: "*"}}
drift_detection:
  strategy: threshold
"""

Echo = Callable[[str], None]


@dataclass
class DayOutcome:
    day: int
    as_of: dt.datetime
    run_id: str
    row_counts: dict[str, int]
    drift_events: int


@dataclass
class QuickstartResult:
    directory: Path
    config_path: Path
    started_clean: bool  # an earlier quickstart's files were replaced
    head_version: int
    days: list[DayOutcome] = field(default_factory=list)
    tests_passed: int = 0
    incidents: tuple[Incident, ...] = INCIDENTS
    seconds: float = 0.0

    @property
    def last_run_id(self) -> str:
        return self.days[-1].run_id


def run(
    directory: str | Path = DEFAULT_DIR,
    *,
    echo: Echo | None = None,
    days: int = DAYS,
    debug: bool = False,
    hooks: Hooks = NO_HOOKS,
) -> QuickstartResult:
    """Build the demo in `directory` and return what happened; `echo` receives one line per step."""
    say = echo or (lambda _line: None)
    started = time.perf_counter()
    path = Path(directory).expanduser().resolve()
    started_clean = prepare_directory(path)
    if started_clean:
        say(f"{path}: an earlier quickstart is here; starting clean (its demo files are replaced)")
    else:
        say(f"{path}: new quickstart directory")
    config_path = path / CONFIG_FILE
    config_path.write_text(CONFIG_TEXT, encoding="utf-8")
    ctx = Context.load(config_path, debug=debug, hooks=hooks)

    step = time.perf_counter()
    migrated = migrate_apply(ctx)
    say(
        f"migrate apply: store {path / STORE_FILE} at schema version {migrated.to_version}, "
        f"{len(migrated.views)} query views built ({time.perf_counter() - step:.1f} s)"
    )
    result = QuickstartResult(path, config_path, started_clean, migrated.to_version)

    step = time.perf_counter()
    anchor = utc_now().replace(second=0, microsecond=0)
    for day in range(1, days + 1):
        result.days.append(_simulate_day(ctx, path, day, anchor - dt.timedelta(days=days - day)))
        incidents = [i for i in INCIDENTS if i.day == day]
        note = f"; injected: {', '.join(f'{i.kind} in {i.table}' for i in incidents)}" if incidents else ""
        say(
            f"day {day:>2}: loaded {', '.join(f'{t} {n:,}' for t, n in result.days[-1].row_counts.items())}; "
            f"profiled; {result.days[-1].drift_events} drift event(s){note}"
        )
    say(f"{days} daily loads profiled and checked for drift ({time.perf_counter() - step:.1f} s)")

    step = time.perf_counter()
    tested = ctx.dbt().test(VIEWS_SELECTOR)
    if not tested.success:
        raise CheckFailed(f"the query views' dbt tests failed: {tested.describe_failure()}")
    result.tests_passed = sum(1 for n in tested.nodes if n.status == "pass")
    say(f"dbt test: {result.tests_passed} tests of the query views passed ({time.perf_counter() - step:.1f} s)")
    result.seconds = time.perf_counter() - started
    return result


def prepare_directory(path: Path) -> bool:
    """Create the directory, or clear an earlier quickstart's files from it. True when it cleared.

    A directory that holds anything else, without the quickstart's marker, is refused: a clean
    start must never delete a user's files."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} exists and is not a directory")
    marker = path / MARKER
    if path.is_dir() and any(path.iterdir()) and not marker.is_file():
        raise UsageError(f"{path} is not empty and was not made by `profilemesh quickstart`: choose another --dir")
    restarted = marker.is_file()
    if restarted:
        for name in OWN_FILES:
            (path / name).unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"profilemesh": __version__, "created_at": utc_now().isoformat()}) + "\n")
    return restarted


def _simulate_day(ctx: Context, directory: Path, day: int, as_of: dt.datetime) -> DayOutcome:
    counts = load_day(directory / WAREHOUSE_FILE, day)
    report = profile(ctx, as_of=as_of)
    if report.failed:
        failed = report.failed[0]
        raise CheckFailed(f"day {day}: profiling {failed.schema}.{failed.table} failed: {failed.error}")
    drift = detect_drift(ctx, detected_at=as_of)
    return DayOutcome(day, as_of, report.run_id, {t: counts[t] for t in TABLES}, len(drift.events))
