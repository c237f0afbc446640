"""`profilemesh migrate status|apply|validate|repair|unlock|history`: thin wrappers over profilemesh.api."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from profilemesh.cli.options import CONFIG, LOCK_TIMEOUT, context, output_options
from profilemesh.cli.render import emit, render, to_fields, to_table
from profilemesh.store import DEFAULT_STALE_AFTER

if TYPE_CHECKING:
    from profilemesh.migrate.results import ApplyResult, MigrationStatus, RepairResult, UnlockResult, ValidationReport
    from profilemesh.store.ledger import Attempt

HISTORY_COLUMNS = (
    "attempt_id",
    "version",
    "operation",
    "status",
    "started_at",
    "execution_ms",
    "steps_completed",
    "failed_step",
    "applied_by",
    "checksum",
)


@click.group()
def migrate() -> None:
    """Inspect and migrate the storage schema."""


@migrate.command()
@CONFIG
@output_options
def status(config_path: str | None, fmt: str, output: str | None) -> int:
    """Schema version, pending migrations, last attempt and lock holder.

    Exits 0 when up to date, 1 when behind, ahead, unversioned, migrating now or after a failed attempt.
    """
    from profilemesh.api import migrate_status

    result = migrate_status(context(config_path))
    emit(render(fmt, result, table=lambda: _status_text(result)), output)
    return result.exit_code


def _status_text(result: MigrationStatus) -> str:
    rows: list[tuple[str, Any]] = [
        ("store", result.store),
        ("database version", result.db_version),
        ("code head version", result.head_version),
        ("state", result.state),
        ("pending", ", ".join(f"{p.version} ({p.title})" for p in result.pending) or "none"),
    ]
    if result.last_attempt:
        a = result.last_attempt
        rows.append(
            (
                "last attempt",
                f"#{a.attempt_id} {a.operation} v{a.version} {a.status} at {a.started_at} by {a.applied_by}",
            )
        )
    rows.append(("lock holder", result.lock_holder.describe() if result.lock_holder else "none"))
    return to_fields(rows) + result.message + "\n"


@migrate.command()
@CONFIG
@click.option(
    "--target",
    "target_version",
    type=click.IntRange(min=0),
    default=None,
    help="Version to migrate to (default: the newest this ProfileMesh knows).",
)
@click.option("--dry-run", is_flag=True, help="Print the exact SQL, ledger writes included; change nothing.")
@click.option(
    "--grant-read",
    "grant_read",
    multiple=True,
    metavar="ROLE",
    help="Let ROLE read the query views and storage tables (PostgreSQL, Snowflake); repeatable.",
)
@LOCK_TIMEOUT
@output_options
def apply(
    config_path: str | None,
    target_version: int | None,
    dry_run: bool,
    grant_read: tuple[str, ...],
    lock_timeout: float,
    fmt: str,
    output: str | None,
) -> int:
    """Apply pending migrations (adopting an unversioned ProfileMesh store first)."""
    from profilemesh.api import migrate_apply

    ctx = context(config_path)
    result = migrate_apply(
        ctx, target_version=target_version, dry_run=dry_run, lock_timeout=lock_timeout, grant_read=grant_read
    )
    emit(render(fmt, result, table=lambda: _apply_text(result, ctx.target.warehouse.name)), output)
    return 0


def _apply_text(result: ApplyResult, warehouse: str) -> str:
    if result.dry_run:
        lines = [
            f"-- dry run on {warehouse}: the SQL `migrate apply` would run; nothing was changed",
            "-- (a real run then rebuilds the query views: dbt run --select package:profilemesh)",
            *(statement.strip() + ";" for statement in result.statements),
        ]
        return "\n".join(lines) + "\n"
    lines = []
    if result.adopted_tables:
        lines.append(f"adopted existing tables as version 1: {', '.join(result.adopted_tables)}")
    lines += [
        f"applied version {m.version}: {m.description} (attempt {m.attempt_id}, {m.operation})" for m in result.applied
    ]
    lines.append(f"storage is at version {result.to_version} (head {result.head})")
    if result.views:
        lines.append(f"query views built: {', '.join(result.views)}")
    elif result.views_current:
        lines.append("query views up to date (built by this package for this version)")
    lines += [f"granted {role} read access to the views and storage tables" for role in result.granted_read]
    return "\n".join(lines) + "\n"


@migrate.command()
@CONFIG
@output_options
def validate(config_path: str | None, fmt: str, output: str | None) -> int:
    """Check the live schema and the recorded checksums against the code; list every problem."""
    from profilemesh.api import migrate_validate

    report = migrate_validate(context(config_path))
    emit(render(fmt, report, table=lambda: _validate_text(report)), output)
    return report.exit_code


def _validate_text(report: ValidationReport) -> str:
    verdict = "valid" if report.valid else f"{len(report.problems)} problem(s)"
    lines = [f"database version {report.db_version}, code head {report.head_version}: {verdict}"]
    lines += [f"  problem: {problem}" for problem in report.problems]
    lines += [f"  warning: {warning}" for warning in report.warnings]
    return "\n".join(lines) + "\n"


@migrate.command()
@CONFIG
@click.option("--rollback", is_flag=True, help="Undo the steps that took effect instead of finishing them.")
@click.option("--dry-run", is_flag=True, help="Print the SQL the repair would run; change nothing.")
@LOCK_TIMEOUT
@output_options
def repair(
    config_path: str | None, rollback: bool, dry_run: bool, lock_timeout: float, fmt: str, output: str | None
) -> int:
    """Converge after a failed or interrupted migration attempt, and record what was done."""
    from profilemesh.api import migrate_repair

    result = migrate_repair(context(config_path), rollback=rollback, dry_run=dry_run, lock_timeout=lock_timeout)
    emit(render(fmt, result, table=lambda: _repair_text(result)), output)
    return 0


def _repair_text(result: RepairResult) -> str:
    if result.dry_run:
        return "".join(statement.strip() + ";\n" for statement in result.statements)
    if not result.repaired:
        return "nothing to repair: no failed or interrupted attempt\n"
    resolved = ", ".join(map(str, result.resolved_attempts))
    text = f"repair (attempt {result.attempt_id}): {result.note}; resolved attempt(s) {resolved}\n"
    if result.views:
        text += f"query views built: {', '.join(result.views)}\n"
    return text


@migrate.command()
@CONFIG
@click.option(
    "--if-stale", is_flag=True, help="Release only a stale lock (the default); with --force, end a stale holder only."
)
@click.option("--force", is_flag=True, help="Release a live lock too (PostgreSQL: end the holder's session).")
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0),
    default=DEFAULT_STALE_AFTER,
    show_default=True,
    help="PostgreSQL: a holder idle this many seconds counts as stale.",
)
@output_options
def unlock(
    config_path: str | None, if_stale: bool, force: bool, stale_after: float, fmt: str, output: str | None
) -> int:
    """Show who holds the migration lock and release it if it is stale (or with --force).

    Exits 0 when released or when nothing was held, 1 when refused because the lock is live.
    """
    from profilemesh.api import migrate_unlock

    result = migrate_unlock(context(config_path), force=force, if_stale=if_stale, stale_after=stale_after)
    emit(render(fmt, result, table=lambda: _unlock_text(result)), output)
    return result.exit_code


def _unlock_text(result: UnlockResult) -> str:
    h = result.holder
    if h is None:
        return result.message + "\n"
    rows: list[tuple[str, Any]] = [
        ("lock", h.mechanism),
        ("holder", h.holder),
        ("host", h.host),
        ("pid", h.pid),
        ("backend pid", h.backend_pid),
        ("since", h.since),
        ("state", h.state),
        ("expires at", h.expires_at),
        ("stale", f"{'yes' if h.stale else 'no'} ({h.why})"),
    ]
    return to_fields([(k, v) for k, v in rows if v is not None]) + result.message + "\n"


@migrate.command()
@CONFIG
@output_options
def history(config_path: str | None, fmt: str, output: str | None) -> int:
    """Every recorded attempt: applies, adoptions, repairs, failures."""
    from profilemesh.api import migrate_history

    attempts = migrate_history(context(config_path))
    rows = [a.to_dict() for a in attempts]
    emit(render(fmt, rows, rows=rows, columns=HISTORY_COLUMNS, table=lambda: _history_text(attempts)), output)
    return 0


def _history_text(attempts: list[Attempt]) -> str:
    if not attempts:
        return "no attempts recorded (the store is not versioned yet)\n"
    return to_table(HISTORY_COLUMNS, [a.to_dict() for a in attempts])
