"""Who is running: recorded in the ledger (`applied_by`) and carried in lock holders' names."""

from __future__ import annotations

import getpass
import os
import socket

from profilemesh import __version__


def applied_by() -> str:
    """user@host:pid."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}:{os.getpid()}"


def profilemesh_version() -> str:
    return f"profilemesh {__version__}"
