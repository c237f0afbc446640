"""`profilemesh report`: the page on the quickstart's store, in a real headless Chromium (Debian's
/usr/bin/chromium driven by playwright: no browser download), and the report's reading and escaping.

One browser launch serves every browser assertion: the page loads from file:// with no request but
itself and no console error, every table has its charts (drawn by the inlined plotly.js as they scroll
into view), the quickstart's three incidents are marked where they happened, and a screenshot is kept
under the test's tmp_path.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from profilemesh.api import Context, report
from profilemesh.quickstart.demo import CONFIG_FILE
from profilemesh.report.figures import build
from profilemesh.report.history import StoreHistory, TableHistory
from profilemesh.report.page import render_page
from tests.support.cli import QuickstartRun, run_cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def demo(quickstart_run: QuickstartRun, tmp_path: Path) -> Path:
    """A private copy of the quickstart's directory (its store and config)."""
    assert quickstart_run.result.exit_code == 0, quickstart_run.result.stderr
    directory = tmp_path / "demo"
    shutil.copytree(quickstart_run.directory, directory)
    return directory


def _store_facts(directory: Path) -> tuple[dict[str, int], dt.datetime]:
    """Columns with metrics per table, and the newest run's time, read straight from the store."""
    with duckdb.connect(str(directory / "profilemesh.duckdb"), read_only=True) as conn:
        columns = dict(
            conn.execute(
                "SELECT dataset_name, count(DISTINCT column_name) FROM main.profilemesh_column_metrics_v"
                " WHERE metric_value_numeric IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
        newest = conn.execute("SELECT max(profiled_at) FROM main.profilemesh_runs_v").fetchone()[0]  # type: ignore[index]
    return columns, newest


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh installs it)")
def test_report_page_in_a_browser(demo: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    output = tmp_path / "report.html"
    result = run_cli("report", "-c", str(demo / CONFIG_FILE), "-o", str(output), "--days", "0")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {output}: 3 tables, 14 runs, 11 drift events, 0 schema changes")
    for table in ("shop.customers", "shop.events", "shop.orders"):
        assert f"needs a look: {table} (high)" in result.stdout

    html = output.read_text(encoding="utf-8")
    assert html.count("<script") == 3  # the data, plotly.js (once), the page's drawing code
    outside_scripts = re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", outside_scripts)  # nothing to fetch
    columns, _ = _store_facts(demo)

    url = output.resolve().as_uri()
    requests: list[str] = []
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(url, wait_until="load")
            page.wait_for_selector("#overview-chart .main-svg")

            lazy = page.locator(".chart.lazy")
            assert lazy.count() == 3 + sum(columns.values())  # each table's chart, then one per column
            for index in range(lazy.count()):  # drawn as they scroll into view
                lazy.nth(index).scroll_into_view_if_needed()
            page.wait_for_function(
                "[...document.querySelectorAll('.chart.lazy')].every(d => d.querySelector('.main-svg'))"
            )

            sections = page.locator("section.table")
            assert sorted(sections.evaluate_all("s => s.map(e => e.dataset.table)")) == [
                "shop.customers",
                "shop.events",
                "shop.orders",
            ]
            for section in sections.all():
                name = section.get_attribute("data-table") or ""
                assert section.locator(".badge").first.inner_text() == "high"
                assert section.locator(".table-chart.js-plotly-plot").count() == 1
                assert section.locator(".column .js-plotly-plot").count() == columns[name.split(".")[1]]

            # Drift marked on the series it was recorded on: traces named "<metric> drift", per chart.
            marked = page.evaluate(
                """() => [...document.querySelectorAll('.chart.lazy')].flatMap(div => div.data
                     .filter(t => / drift$/.test(t.name) && t.x.length)
                     .map(t => div.closest('section').dataset.table + ' '
                               + (div.closest('.column')?.querySelector('h4').textContent ?? '(table)')
                               + ' ' + t.name))"""
            )
            assert "shop.orders amount mean drift" in marked  # day 6: amounts converted twice
            assert "shop.customers email null_percent drift" in marked  # day 9: the broken join
            assert "shop.events (table) row count drift" in marked  # day 12: half the events missing
            assert page.locator("table.events tr").count() == 11 + 3  # every drift event, one header a table

            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 50_000
        finally:
            browser.close()

    assert requests == [url]  # the file itself, nothing else: no CDN, font or script fetched
    assert [m for m in console if not m.startswith(("log:", "debug:", "info:"))] == []


def test_report_table_filter_and_window(demo: Path, tmp_path: Path) -> None:
    ctx = Context.load(demo / CONFIG_FILE)
    _, newest = _store_facts(demo)
    one = report(ctx, str(tmp_path / "orders.html"), tables=["shop.orders"], days=0)
    assert (one.tables, one.runs, one.drift_events) == (1, 14, 5)
    assert one.unhealthy == ["shop.orders (high)"]
    assert 'data-table="shop.orders"' in (tmp_path / "orders.html").read_text(encoding="utf-8")
    # Two days back from a minute after the newest run: the last two daily runs, after every incident.
    recent = report(ctx, str(tmp_path / "recent.html"), days=2, now=newest + dt.timedelta(minutes=1))
    assert (recent.tables, recent.runs, recent.drift_events, recent.unhealthy) == (3, 2, 0, [])


def test_report_unknown_table_is_a_usage_error(demo: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    result = run_cli("report", "-c", str(demo / CONFIG_FILE), "-o", str(output), "--table", "shop.nosuch")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: no runs of table shop.nosuch in the store (tables with runs: shop.customers, shop.events, shop.orders)"
    ]
    assert not output.exists()


def test_names_cannot_break_out_of_the_page() -> None:
    """Hostile table and column names are escaped in the HTML and cannot close the data's <script>;
    a non-finite value is a gap in its line (the page's JSON allows no NaN or Infinity)."""
    at = dt.datetime(2026, 1, 1)
    hostile = "</script><script>alert(1)</script>"
    run = {
        "run_id": "r1",
        "schema_name": "s",
        "dataset_name": hostile,
        "status": "completed",
        "profiled_at": at,
        "row_count": 10,
        "column_count": 1,
        "duration_seconds": 0.5,
        "metric_count": 1,
        "error_message": None,
    }
    metrics = {hostile: {"mean": {"r1": 1.5}, "max": {"r1": float("inf")}, "min": {"r1": float("nan")}}}
    table = TableHistory("s", hostile, runs=[run], metrics=metrics)
    html = render_page(
        build(StoreHistory(0, None, at, [table], chart_runs=1)),
        title="t",
        store="duckdb file x",
        days=0,
        generated_at=at,
    )
    assert "<script>alert(1)" not in html
    assert html.count("</script>") == 3
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html
    assert '"m":"max","y":[null]' in html and '"m":"min","y":[null]' in html


def test_a_big_history_charts_each_tables_latest_runs(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the page's budget of chart values, each table's charts show (and the report reads the
    metrics of) its latest runs only: the window-function query, on a real store."""
    from profilemesh.query.reader import open_reader
    from profilemesh.report import history

    monkeypatch.setattr(history, "CHART_VALUES", 100)
    monkeypatch.setattr(history, "MIN_CHART_RUNS", 5)
    with open_reader(Context.load(demo / CONFIG_FILE)) as reader:
        read = history.read_history(reader.conn, reader.relations, days=0)
    assert read.chart_runs == 5
    assert len(read.tables) == 3
    for table in read.tables:
        assert len(table.runs) == 14  # the runs overview and the table's facts keep every run
        latest = {run["run_id"] for run in table.runs[-5:]}
        read_runs = {run_id for by_metric in table.metrics.values() for v in by_metric.values() for run_id in v}
        assert read_runs == latest
        assert not {"count", "null_count", "distinct_count"} & {m for c in table.metrics.values() for m in c}
    figure = next(f for f in build(read).tables if f.label == "shop.events")
    assert (figure.chart["shown"], figure.chart["of"]) == (5, 14)
    assert len(figure.chart["x"]) == 5


def test_without_plotly_the_report_says_which_extra(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotly.offline", None)  # as if the `report` extra were not installed
    output = tmp_path / "report.html"
    result = run_cli("report", "-c", str(demo / CONFIG_FILE), "-o", str(output))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: profilemesh report needs plotly: pip install 'profilemesh[report]'"
    assert not output.exists()
