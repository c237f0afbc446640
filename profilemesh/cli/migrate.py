"""`profilemesh migrate status|apply|validate|repair|history`."""

from __future__ import annotations

from typing import Any

import click

from profilemesh.cli.output import fields, table, to_json

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format."
)
CONFIG = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default ./profilemesh.yml; without one, ./profilemesh.duckdb).",
)
LOCK_TIMEOUT = click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the migration lock (or a busy DuckDB file).",
)


def _target(config_path: str | None):
    from profilemesh.config import load_config
    from profilemesh.connection import resolve_storage

    return resolve_storage(load_config(config_path))


@click.group()
def migrate() -> None:
    """Inspect and migrate the storage schema."""


@migrate.command()
@CONFIG
@FORMAT
def status(config_path: str | None, fmt: str) -> int:
    """Schema version, pending migrations, last attempt and lock holder.

    Exits 0 when up to date, 1 when behind, ahead, unversioned, migrating now or after a failed attempt.
    """
    from profilemesh.migrate.status import migration_status

    result = migration_status(_target(config_path))
    if fmt == "json":
        click.echo(to_json(result.to_dict()))
        return result.exit_code
    rows: list[tuple[str, Any]] = [
        ("store", result.store),
        ("database version", result.db_version),
        ("code head version", result.head_version),
        ("state", result.state),
        ("pending", ", ".join(f"{p['version']} ({p['title']})" for p in result.pending) or "none"),
    ]
    if result.last_attempt:
        a = result.last_attempt
        rows.append(
            (
                "last attempt",
                f"#{a['attempt_id']} {a['operation']} v{a['version']} {a['status']} "
                f"at {a.get('started_at')} by {a.get('applied_by')}",
            )
        )
    holder = result.lock_holder
    rows.append(
        ("lock holder", f"pid {holder['pid']} ({holder['application']}, since {holder['since']})" if holder else "none")
    )
    click.echo(fields(rows))
    click.echo(result.message)
    return result.exit_code


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
@LOCK_TIMEOUT
@click.pass_context
def apply(
    ctx: click.Context, config_path: str | None, target_version: int | None, dry_run: bool, lock_timeout: float
) -> int:
    """Apply pending migrations (adopting an unversioned ProfileMesh store first)."""
    from profilemesh.migrate import operations

    target = _target(config_path)
    result = operations.apply(
        target, target_version=target_version, dry_run=dry_run, lock_timeout=lock_timeout, debug=ctx.obj["debug"]
    )
    if dry_run:
        click.echo(f"-- dry run on {target.dialect}: the SQL `migrate apply` would run; nothing was changed")
        click.echo("-- (a real run then rebuilds the query views: dbt run --select package:profilemesh)")
        for statement in result["statements"]:
            click.echo(statement.strip() + ";")
        return 0
    if result["adopted_tables"]:
        click.echo(f"adopted existing tables as version 1: {', '.join(result['adopted_tables'])}")
    for applied in result["applied"]:
        click.echo(
            f"applied version {applied['version']}: {applied['description']} "
            f"(attempt {applied['attempt_id']}, {applied['operation']})"
        )
    click.echo(f"storage is at version {result['to_version']} (head {result['head']})")
    if result["views"]:
        click.echo(f"query views built: {', '.join(result['views'])}")
    elif result.get("views_current"):
        click.echo("query views up to date (built by this package for this version)")
    return 0


@migrate.command()
@CONFIG
@FORMAT
@click.pass_context
def validate(ctx: click.Context, config_path: str | None, fmt: str) -> int:
    """Check the live schema and the recorded checksums against the code; list every problem."""
    from profilemesh.migrate.validate import validate as run_validate

    report = run_validate(_target(config_path), debug=ctx.obj["debug"])
    if fmt == "json":
        click.echo(to_json(report.to_dict()))
        return report.exit_code
    click.echo(
        f"database version {report.db_version}, code head {report.head_version}: "
        f"{'valid' if report.valid else f'{len(report.problems)} problem(s)'}"
    )
    for problem in report.problems:
        click.echo(f"  problem: {problem}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    return report.exit_code


@migrate.command()
@CONFIG
@click.option("--rollback", is_flag=True, help="Undo the steps that took effect instead of finishing them.")
@click.option("--dry-run", is_flag=True, help="Print the SQL the repair would run; change nothing.")
@LOCK_TIMEOUT
@click.pass_context
def repair(ctx: click.Context, config_path: str | None, rollback: bool, dry_run: bool, lock_timeout: float) -> int:
    """Converge after a failed or interrupted migration attempt, and record what was done."""
    from profilemesh.migrate import operations

    result = operations.repair(
        _target(config_path), rollback=rollback, dry_run=dry_run, lock_timeout=lock_timeout, debug=ctx.obj["debug"]
    )
    if dry_run:
        for statement in result["statements"]:
            click.echo(statement.strip() + ";")
        return 0
    if "note" not in result:
        click.echo("nothing to repair: no failed or interrupted attempt")
        return 0
    click.echo(
        f"repair (attempt {result['attempt_id']}): {result['note']}; "
        f"resolved attempt(s) {', '.join(map(str, result['resolved_attempts']))}"
    )
    if result.get("views"):
        click.echo(f"query views built: {', '.join(result['views'])}")
    return 0


@migrate.command()
@CONFIG
@click.option(
    "--if-stale", is_flag=True, help="Release only a stale lock (the default); with --force, end a stale holder only."
)
@click.option("--force", is_flag=True, help="Release a live lock too (PostgreSQL: end the holder's session).")
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="PostgreSQL: a holder idle this many seconds counts as stale.",
)
@FORMAT
def unlock(config_path: str | None, if_stale: bool, force: bool, stale_after: float, fmt: str) -> int:
    """Show who holds the migration lock and release it if it is stale (or with --force).

    Exits 0 when released or when nothing was held, 1 when refused because the lock is live.
    """
    from profilemesh.migrate.lock import unlock as release

    result = release(_target(config_path), force=force, if_stale=if_stale, stale_after=stale_after)
    if fmt == "json":
        click.echo(to_json(result.to_dict()))
        return result.exit_code
    h = result.holder
    if h is not None:
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
        click.echo(fields([(k, v) for k, v in rows if v is not None]))
    click.echo(result.message)
    return result.exit_code


@migrate.command()
@CONFIG
@FORMAT
def history(config_path: str | None, fmt: str) -> int:
    """Every recorded attempt: applies, adoptions, repairs, failures."""
    from profilemesh.migrate.status import history as read_history

    attempts = read_history(_target(config_path))
    if fmt == "json":
        click.echo(to_json(attempts))
        return 0
    if not attempts:
        click.echo("no attempts recorded (the store is not versioned yet)")
        return 0
    columns = [
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
    ]
    click.echo(table(([a.get(c) for c in columns] for a in attempts), columns))
    return 0
