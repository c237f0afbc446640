"""The query views, kept in step with the schema by `migrate apply` and `migrate repair`.

At head they are (re)built with `dbt run -s package:profilemesh`, so they always match the schema
version; a no-op apply leaves them alone when this package built them for this version and none is
missing. PostgreSQL ties a view to the columns it reads, so there they are dropped before pending
migrations run (meanwhile the store, behind head, is read from its tables)."""

from __future__ import annotations

import sqlalchemy as sa

from profilemesh.context import Context
from profilemesh.contract import VIEW_COLUMNS, VIEWS_INFO_VIEW
from profilemesh.dbt.session import VIEWS_SELECTOR, DbtSession
from profilemesh.errors import DatabaseError
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger
from profilemesh.store.locks import migration_lock

VIEWS_PURPOSE = "views"


def drop_before_migrating(ctx: Context, session: DbtSession, target_version: int | None, lock_timeout: float) -> None:
    """PostgreSQL refuses to drop or retype a column a view reads, so when migrations are pending the
    query views go first. DuckDB and Snowflake do not tie views to their tables."""
    if not ctx.target.warehouse.views_bind_columns:
        return
    goal = ctx.head if target_version is None else target_version
    if read_ledger(ctx.target).current_version >= goal:
        return
    # Under the migration lock, so a concurrent apply's view build is never cut short; and looked at
    # again there, since that apply may have migrated (and built the views) in the meantime.
    with migration_lock(ctx.target).exclusive(lock_timeout, purpose=VIEWS_PURPOSE):
        if read_ledger(ctx.target).current_version >= goal:
            return
        session.run_operation("profilemesh_drop_query_views").result()


def build(session: DbtSession, lock_timeout: float, *, unless_current: bool = False) -> list[str] | None:
    """Build the views under the migration lock; the models built, or None when unless_current and the
    views were current (looked at under the lock, after any concurrent apply's build)."""
    with migration_lock(session.target).exclusive(lock_timeout, purpose=VIEWS_PURPOSE):
        if unless_current and _current(session):
            return None
        built = session.run(VIEWS_SELECTOR, lock_timeout=lock_timeout)
    if not built.success:
        raise DatabaseError(f"building the query views failed: {built.describe_failure()}")
    return built.models()


def _current(session: DbtSession) -> bool:
    """Every view is there, built for the head version by this very package."""
    target = session.target
    info = sa.table(
        VIEWS_INFO_VIEW, sa.column("schema_version"), sa.column("package_fingerprint"), schema=target.schema
    )
    try:
        with connect(target) as conn:
            if target.warehouse.present_relations(conn, target.schema, VIEW_COLUMNS) != set(VIEW_COLUMNS):
                return False
            rows = conn.execute(sa.select(info.c.schema_version, info.c.package_fingerprint)).all()
    except DatabaseError:
        # Built by an older package (no such column), or a DuckDB file another apply holds right now:
        # the build path waits for the file and rebuilds.
        return False
    return [tuple(row) for row in rows] == [(session.package.head, session.fingerprint)]
