"""`migrate unlock`: who holds the migration lock, whether it is stale, and releasing it (the
mechanism per warehouse is in store/locks/)."""

from __future__ import annotations

from profilemesh.context import Context
from profilemesh.errors import UsageError
from profilemesh.migrate.results import UnlockResult
from profilemesh.store.locks import DEFAULT_STALE_AFTER, migration_lock


def unlock(
    ctx: Context, *, force: bool = False, if_stale: bool = False, stale_after: float = DEFAULT_STALE_AFTER
) -> UnlockResult:
    """Release a stale lock; a live one only with force (and with force and if_stale, only if stale)."""
    if stale_after < 0:
        raise UsageError("--stale-after must be 0 or more")
    lock = migration_lock(ctx.target)
    holder = lock.holder(stale_after=stale_after, include_expired=True)
    if holder is None:
        return UnlockResult(None, False, "no migration lock is held: nothing to release")
    allowed, hint = lock.may_release(holder, force=force, if_stale=if_stale)
    if not allowed:
        return UnlockResult(holder, False, f"refused: the migration lock is held by {holder.describe()}; {hint}")
    release = lock.release(holder, force=force)
    return UnlockResult(holder, release.released, release.message)
