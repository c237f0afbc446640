"""Ctrl-C in the middle of a long statement, as a user at a terminal presses it: the statement is
stopped (on PostgreSQL a cancel is sent at once; its driver would otherwise wait for the statement to
finish), `profile` prints one line naming the run it did not write, exits 130, and the store is as
it was."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.support.cli import FAULTS
from tests.support.stores import Store

# Seconds (DuckDB) to minutes (PostgreSQL) of work for one aggregate statement on these machines. DuckDB
# stops an interrupted statement when its running tasks end, so its statement is one that ends (about
# 6 s on two threads here): the test checks what is written and said, and times PostgreSQL's cancel.
SETUP = {
    "duckdb": [
        "CREATE TABLE src.big AS SELECT range AS id FROM range(10000000)",
        "CREATE VIEW src.huge AS SELECT id, md5(md5(md5(md5(id::VARCHAR)))) AS s FROM src.big",
    ],
    "postgres": ["CREATE VIEW src.huge AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 1000000000) g"],
}


def _config(store: Store, tmp_path: Path) -> Path:
    store.sql('CREATE SCHEMA IF NOT EXISTS "src"')
    store.sql('CREATE TABLE "src"."small" AS SELECT 1 AS id')
    for statement in SETUP[store.kind]:
        store.sql(statement)
    data = yaml.safe_load(store.config_path.read_text())
    data["source"] = dict(data["storage"]["connection"], schema="src")
    data["profiling"] = {"tables": [{"schema": "src", "table": "small"}, {"schema": "src", "table": "huge"}]}
    path = tmp_path / "interrupt.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _read_until(fd: int, text: bytes, seen: bytearray, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the other end closed
                return text in seen
    return text in seen


def test_ctrl_c_stops_the_statement_and_writes_nothing(store_at_head: Store, tmp_path: Path) -> None:
    store = store_at_head
    config = _config(store, tmp_path)
    runs = store.qualified("profilemesh_runs")
    assert store.sql(f"SELECT count(*) FROM {runs}") == [(0,)]

    terminal, stderr = pty.openpty()  # stderr a terminal: `profile` shows which table it is on
    proc = subprocess.Popen(
        [sys.executable, str(FAULTS), "profile", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=os.environ.copy(),
        # A terminal's Ctrl-C, whatever started the suite: a shell without job control starts its
        # background commands with SIGINT ignored, and a child inherits that (Python then keeps it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(stderr)
    seen = bytearray()
    try:
        assert _read_until(terminal, b"src.huge", seen, 60), seen.decode(errors="replace")
        time.sleep(0.5)  # inside the table's aggregate statement
        proc.send_signal(signal.SIGINT)
        pressed = time.monotonic()
        proc.wait(timeout=60)
        stopped_after = time.monotonic() - pressed
        _read_until(terminal, b"\n", seen, 5)
        _read_until(terminal, b"nothing of it is stored", seen, 5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(terminal)
    output = seen.decode(errors="replace").replace("\r", "\n")
    assert proc.returncode == 130, output
    if store.kind == "postgres":
        assert stopped_after < 10, stopped_after  # the statement was cancelled, not waited for
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in output, output
    assert lines[0].startswith("error: interrupted while profiling src.huge (2 of 2 tables): run ")
    assert lines[0].endswith("was not written, nothing of it is stored")
    assert store.sql(f"SELECT count(*) FROM {runs}") == [(0,)]  # not even the small table's row
    if store.kind == "postgres":  # and the server is not still running it
        still_running = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%huge%' AND pid <> pg_backend_pid()"
        for _ in range(50):
            if store.sql(still_running) == [(0,)]:
                break
            time.sleep(0.1)
        assert store.sql(still_running) == [(0,)]
