"""`profilemesh alert`: a thin wrapper over profilemesh.alerts (docs/guides/alerts.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from profilemesh.cli.options import CONFIG, context, dbt_project_options, lock_timeout_option, output_options
from profilemesh.cli.render import emit, render, to_table

if TYPE_CHECKING:
    from profilemesh.alerts.runner import AlertReport
    from profilemesh.dbt.project import DbtSelection

TABLE_COLUMNS = ("destination", "type", "status", "severity", "events", "tables", "tries", "error")


@click.command()
@CONFIG
@click.option(
    "--destination",
    "destinations",
    multiple=True,
    help="Only this configured destination (repeatable; default: every one).",
)
@click.option("--dry-run", is_flag=True, help="Show the messages that would be sent; send and record nothing.")
@lock_timeout_option("Seconds to wait for another `alert` run on the same store to finish (then exit 3, store busy).")
@dbt_project_options
@output_options
def alert(
    config_path: str | None,
    destinations: tuple[str, ...],
    dry_run: bool,
    lock_timeout: float,
    dbt_project: DbtSelection | None,
    fmt: str,
    output: str | None,
) -> int:
    """Send each drift event not yet alerted to the destinations in the config's `alerts` section (Slack,
    Teams, a signed webhook, email): one message per table and run, or a digest. Every delivery is
    recorded in the store, so a second run sends nothing new; a failed send is retried on the next run.
    One run at a time per store: a second one waits for the first, then sends what is left. Exit 3 when a
    message could not be delivered. With --project-dir, the owners in the dbt project's
    `profilemesh` meta route the messages (docs/guides/DBT.md)."""
    from profilemesh.api import alert as send_alerts

    ctx = context(config_path, dbt_project)
    report = send_alerts(ctx, dry_run=dry_run, destinations=destinations, lock_timeout=lock_timeout)
    rows = [d.__dict__ | {"tables": ", ".join(d.tables)} for d in report.deliveries]
    emit(render(fmt, report, rows=rows, columns=TABLE_COLUMNS, table=lambda: alert_text(report)), output)
    return report.exit_code


def alert_text(report: AlertReport) -> str:
    text = ""
    if report.deliveries:
        rows = [
            {
                "destination": d.destination,
                "type": d.type,
                "status": d.status,
                "severity": d.severity,
                "events": d.events,
                "tables": ", ".join(d.tables),
                "tries": d.tries,
                "error": d.error,
            }
            for d in report.deliveries
        ]
        text += to_table(TABLE_COLUMNS, rows)
    if report.dry_run:
        pending = sum(d.events for d in report.deliveries if d.status != "suppressed")
        return text + f"dry run: {pending} event(s) would be sent; nothing was sent or recorded\n"
    failed = f", {report.failed} failed (retried on the next run)" if report.failed else ""
    suppressed = f", {report.suppressed} suppressed" if report.suppressed else ""
    return text + f"{report.sent} event(s) sent{failed}{suppressed}\n"
