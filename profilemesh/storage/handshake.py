"""The schema-version handshake every writer does before its first write (read N-1, write N):
migrations are never run implicitly."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from profilemesh.connection import StorageTarget
from profilemesh.errors import CheckFailed
from profilemesh.migrate.ledger import read_ledger_on
from profilemesh.package import head_version


def require_writable(conn: Connection, target: StorageTarget) -> int:
    """The store's version if it is exactly the code's head; otherwise a clear refusal."""
    snapshot = read_ledger_on(conn, target)
    head = head_version()
    current = snapshot.current_version
    if snapshot.unresolved:
        attempt = snapshot.unresolved[-1]
        raise CheckFailed(
            f"storage has an unfinished migration attempt ({attempt['attempt_id']}, version "
            f"{attempt['version']}): run `profilemesh migrate repair`"
        )
    if current < head:
        raise CheckFailed(f"storage is at version {current}, ProfileMesh needs {head}: run `profilemesh migrate apply`")
    if current > head:
        raise CheckFailed(
            f"storage is at version {current}, newer than this ProfileMesh knows ({head}): upgrade profilemesh"
        )
    return current
