"""`profilemesh quickstart`: the demo finds exactly the injected incidents, prints the drift and the
history trend, and a second run in the same directory starts clean (and says so)."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from profilemesh.api import Context, detect_drift
from profilemesh.quickstart.demo import CONFIG_FILE, MARKER
from profilemesh.quickstart.warehouse import DAYS, INCIDENTS, SCHEMA, TABLES, load_day
from tests.support.cli import QuickstartRun, run_cli


def _store_rows(directory: Path, sql: str) -> list[tuple]:
    target = Context.load(directory / CONFIG_FILE).target
    engine = target.warehouse.create_engine(target.connection, read_only=True)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _days_by_run(directory: Path) -> dict[str, int]:
    runs = _store_rows(directory, "SELECT DISTINCT run_id, profiled_at FROM profilemesh_runs ORDER BY profiled_at")
    return {run_id: day for day, (run_id, _) in enumerate(runs, start=1)}


def _is_incident(table: str, column: str | None, day: int, *, on_its_day: bool) -> bool:
    """The event belongs to an injected incident: its table, its column (any column of a row drop),
    and its day (or, against a moving average, any later day while the window still holds it)."""
    for incident in INCIDENTS:
        same_day = day == incident.day if on_its_day else day >= incident.day
        if table == incident.table and (incident.column is None or column == incident.column) and same_day:
            return True
    return False


def test_quickstart_prints_drift_and_trend(quickstart_run: QuickstartRun) -> None:
    result = quickstart_run.result
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "new quickstart directory" in out
    assert f"$ profilemesh query drift -c {quickstart_run.directory / CONFIG_FILE}" in out
    # query drift's table lists each incident's column...
    drift_part = out.split("$ profilemesh query drift", 1)[1].split("$ profilemesh query table", 1)[0]
    for needle in ("amount", "email", "null_percent", "row_count", "high"):
        assert needle in drift_part
    # ...and query table's history ends with the trend of the events table: the row drop shows.
    trend = next(line for line in out.splitlines() if line.startswith("row count trend:"))
    sparkline = trend.split(":", 1)[1].split("(")[0].strip()
    assert len(sparkline) == DAYS and sparkline[-1] < sparkline[0], trend
    assert f"history of {SCHEMA}.events in the last 30 days: {DAYS} runs" in out
    assert "Next, try these" in out and "profilemesh query runs --table orders -c " in out
    assert (quickstart_run.directory / MARKER).is_file()


def test_quickstart_drift_is_the_incidents_and_nothing_else(quickstart_run: QuickstartRun) -> None:
    directory = quickstart_run.directory
    days = _days_by_run(directory)
    assert len(days) == DAYS
    runs = _store_rows(directory, "SELECT dataset_name, count(*), min(status) FROM profilemesh_runs GROUP BY 1")
    assert sorted(runs) == sorted((t, DAYS, "completed") for t in TABLES)
    events = _store_rows(
        directory, "SELECT run_id, table_name, column_name, metric_name, event_type FROM profilemesh_events"
    )
    assert events, "the quickstart found no drift"
    # Baseline `previous` (what the quickstart runs): every event is an incident on its day...
    stray = [e for e in events if not _is_incident(e[1], e[2], days[e[0]], on_its_day=True)]
    assert stray == [], f"ordinary change flagged: {stray}"
    # ...and every incident is found on its day, by the metric that shows it.
    found = {(days[e[0]], e[1], e[2], e[3]) for e in events}
    assert (6, "orders", "amount", "mean") in found
    assert (9, "customers", "email", "null_percent") in found
    assert (12, "events", "", "row_count") in found or (12, "events", None, "row_count") in found
    # The timestamps are the simulated days': one day apart, the last one today.
    stamps = _store_rows(directory, "SELECT DISTINCT profiled_at FROM profilemesh_runs ORDER BY 1")
    assert [(b[0] - a[0]).days for a, b in itertools.pairwise(stamps)] == [1] * (DAYS - 1)
    detected = _store_rows(
        directory,
        "SELECT DISTINCT e.timestamp = r.profiled_at FROM profilemesh_events e "
        "JOIN profilemesh_runs r ON r.run_id = e.run_id AND r.dataset_name = e.table_name",
    )
    assert detected == [(True,)]


def test_quickstart_moving_average_finds_the_incidents_too(quickstart_run: QuickstartRun) -> None:
    """Against a 7-run moving average the incidents are found on their day (and, while the window
    still holds pre-incident runs, after it); ordinary change is never flagged."""
    directory = quickstart_run.directory
    config = Context.load(directory / CONFIG_FILE)
    found = set()
    for run_id, day in _days_by_run(directory).items():
        report = detect_drift(config, current=run_id, baseline="moving_average", write=False)
        for event in report.events:
            assert _is_incident(event.table, event.column, day, on_its_day=False), (day, event)
            found.add((day, event.table, event.column, event.metric))
    assert {(6, "orders", "amount", "mean"), (9, "customers", "email", "null_percent")} <= found
    assert any(day == 12 and table == "events" and metric == "row_count" for day, table, _, metric in found)


def test_quickstart_again_starts_clean(quickstart_run: QuickstartRun, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    shutil.copytree(quickstart_run.directory, directory)
    (directory / "notes.txt").write_text("mine\n")  # not the quickstart's: it stays
    first_events = _store_rows(directory, "SELECT count(*) FROM profilemesh_events")

    again = run_cli("quickstart", "--dir", str(directory))
    assert again.exit_code == 0, again.stderr
    assert "an earlier quickstart is here; starting clean" in again.stdout
    assert (directory / "notes.txt").read_text() == "mine\n"
    # A clean start, not a second history on top of the first: same runs, same events.
    assert _store_rows(directory, "SELECT count(DISTINCT run_id) FROM profilemesh_runs") == [(DAYS,)]
    assert _store_rows(directory, "SELECT count(*) FROM profilemesh_events") == first_events


@pytest.mark.parametrize("occupied", ["file", "foreign_dir"])
def test_quickstart_refuses_a_directory_it_did_not_make(tmp_path: Path, occupied: str) -> None:
    target = tmp_path / "there"
    if occupied == "file":
        target.write_text("not a directory\n")
    else:
        target.mkdir()
        (target / "data.csv").write_text("a,b\n")
    result = run_cli("quickstart", "--dir", str(target))
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    if occupied == "file":
        assert "is a file" in result.stderr  # click's usage error for --dir
        assert target.read_text() == "not a directory\n"
    else:
        expected = f"error: {target} is not empty and was not made by `profilemesh quickstart`: choose another --dir"
        assert result.stderr == expected + "\n"
        assert sorted(p.name for p in target.iterdir()) == ["data.csv"]


def test_quickstart_data_is_a_function_of_the_seed(tmp_path: Path) -> None:
    """Same seed and day, same warehouse, row for row: the demo's output is reproducible."""
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    assert load_day(a, 3) == load_day(b, 3)
    digests = []
    for path in (a, b):
        with duckdb.connect(str(path), read_only=True) as conn:
            digests.append([conn.execute(f"SELECT sum(hash(t)) FROM {SCHEMA}.{t} AS t").fetchone() for t in TABLES])
    assert digests[0] == digests[1]
