"""`report`: read the window's history, build the figures, write the page; what was written, in numbers."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from profilemesh.report.figures import build
from profilemesh.report.history import Sources, read_history
from profilemesh.report.page import plotly_js, render_page

TITLE = "ProfileMesh report"


@dataclass
class ReportResult:
    path: str
    tables: int
    runs: int  # distinct runs (a run may profile several tables)
    drift_events: int
    schema_changes: int
    bytes: int
    seconds: float
    unhealthy: list[str]  # tables whose health is not ok, worst first
    warning: str | None = None  # the reader's: a store read from its tables, or one that needs a repair


def write_report(
    conn: Connection,
    sources: Sources,
    output: str | Path,
    *,
    store: str,
    tables: Sequence[str] = (),
    days: int = 30,
    now: dt.datetime | None = None,
    warning: str | None = None,
) -> ReportResult:
    started = time.perf_counter()
    plotly = plotly_js()  # before reading: without the `report` extra, say so at once
    history = read_history(conn, sources, tables=tables, days=days, now=now)
    figures = build(history)
    html = render_page(figures, title=TITLE, store=store, days=days, generated_at=history.generated_at, plotly=plotly)
    path = Path(output)
    data = html.encode("utf-8")
    path.write_bytes(data)
    return ReportResult(
        path=str(path),
        tables=len(figures.tables),
        runs=len(figures.runs),
        drift_events=int(figures.totals["drift_events"]),
        schema_changes=int(figures.totals["schema_changes"]),
        bytes=len(data),
        seconds=round(time.perf_counter() - started, 3),
        unhealthy=[f"{t.label} ({t.health})" for t in figures.tables if t.health != "ok"],
        warning=warning,
    )
