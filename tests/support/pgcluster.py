"""A throwaway PostgreSQL cluster on 127.0.0.1, for the test suite and the benchmarks.

The cluster lives in a temp dir, runs as the `postgres` user when we are root (PostgreSQL refuses
root), uses password (scram) authentication over TCP so wrong passwords are really refused, and is
stopped and deleted on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
PASSWORD = "postgres"


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    user: str = SUPERUSER
    password: str = PASSWORD

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{dbname}"


def bindir() -> Path:
    explicit = os.environ.get("PROFILEMESH_PG_BINDIR")
    candidates = [Path(explicit)] if explicit else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for candidate in candidates:
        if (candidate / "initdb").exists():
            return candidate
    raise RuntimeError("PostgreSQL server binaries not found (install postgresql-15, or set PROFILEMESH_PG_BINDIR)")


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_cluster_owner(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run the server binaries as the postgres user.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def throwaway_cluster(settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start a fresh cluster (extra `postgresql.conf` settings optional); stop and delete it afterwards."""
    binaries = bindir()
    root = Path(tempfile.mkdtemp(prefix="profilemesh-pg-"))
    data = root / "data"
    port = free_port()
    pwfile = root / "pwfile"
    pwfile.write_text(PASSWORD)
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
        shutil.chown(pwfile, user="postgres")
    initdb = [str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(pwfile)]
    initdb += ["--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"]
    subprocess.run(as_cluster_owner(initdb), check=True, capture_output=True)
    options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200"
    for name, value in (settings or {}).items():
        options += f" -c {name}={value}"
    start = [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start"]
    subprocess.run(as_cluster_owner(start), check=True, capture_output=True)
    try:
        yield Cluster("127.0.0.1", port)
    finally:
        stop = [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(as_cluster_owner(stop), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
