"""The report's HTML: one Jinja2 template, the figures' data as JSON, and plotly.js inlined once.

plotly.js comes from the `plotly` wheel (the `report` extra), so nothing is fetched when the report is
made or viewed; the page draws each chart when it comes near the viewport, so a page of a thousand
tables opens without drawing thousands of charts first.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from profilemesh.errors import UsageError
from profilemesh.report.figures import HEALTH_ORDER, ReportFigures

INSTALL_HINT = "profilemesh report needs plotly: pip install 'profilemesh[report]'"
RECENT_RUNS = 50  # runs listed in the overview's table (the chart above it shows every day)


def plotly_js() -> tuple[str, str]:
    """plotly.js (minified) and its version, from the installed plotly wheel."""
    try:
        from plotly.offline import get_plotlyjs, get_plotlyjs_version  # type: ignore[import-untyped]
    except ImportError as exc:
        raise UsageError(INSTALL_HINT) from exc
    return get_plotlyjs(), get_plotlyjs_version()


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside <script type="application/json"> (no `</` can close the element)."""
    text = json.dumps(value, separators=(",", ":"), default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(
    figures: ReportFigures,
    *,
    title: str,
    store: str,
    days: int,
    generated_at: dt.datetime,
    plotly: tuple[str, str] | None = None,
) -> str:
    """The page; `plotly`: plotly_js()'s answer, when the caller checked for it before reading."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    js, js_version = plotly or plotly_js()
    env = Environment(
        loader=PackageLoader("profilemesh.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = _seconds
    env.filters["number"] = _number
    env.filters["when"] = _when
    charts = {"overview": figures.daily, "tables": {t.anchor: t.chart for t in figures.tables}}
    return env.get_template("report.html.j2").render(
        title=title,
        store=store,
        days=days,
        generated_at=generated_at,
        figures=figures,
        health_order=HEALTH_ORDER,
        recent_runs=figures.runs[:RECENT_RUNS],
        recent_limit=RECENT_RUNS,
        charts_json=_json_for_script(charts),
        plotly_js=js,
        plotly_version=js_version,
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 60:
        return f"{value:.2f} s"
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)} min {seconds:.0f} s" if minutes < 60 else f"{value / 3600:.1f} h"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def _when(value: dt.datetime | str | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value)[:16]
