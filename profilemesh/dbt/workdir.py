"""The private dbt directory of a process: profiles.yml rendered from the storage connection (without the
password), target/ and logs/, removed at exit. Nothing is written into the package directory, which may
be inside site-packages.

The password reaches dbt through an environment variable set only for the duration of an invocation
(`variables_in_env`), never through a file. Directories are shared by the process's sessions on the same
package, profile and vars, so dbt parses the package once per process; its target/ starts from the parse
an earlier process saved (parse_cache.py)."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.parse_cache import ParseCache, entry_key
from profilemesh.store.locks.base import LOCK_TTL_ENV, lock_ttl_seconds
from profilemesh.store.target import StorageTarget

DBT_PASSWORD_ENV = "PROFILEMESH__DBT_PASSWORD"
PROFILE_NAME = "profilemesh"
TARGET_NAME = "profilemesh"

_WORKDIRS: dict[tuple[str, str, str], Workdir] = {}
_WORKDIRS_LOCK = threading.Lock()


@dataclass
class Workdir:
    path: Path
    parse_cache: ParseCache
    # The parsed package, kept for the process's later invocations (dbtRunner(manifest=...)): each of
    # them then skips loading and checking the saved parse. Parsed again (partially: dbt compares the
    # files) when the package's fingerprint is no longer the one it was parsed at.
    manifest: Any = None
    manifest_fingerprint: str | None = None

    def argv(self) -> list[str]:
        return [
            "--profiles-dir",
            str(self.path),
            "--profile",
            PROFILE_NAME,
            "--target",
            TARGET_NAME,
            "--target-path",
            str(self.path / "target"),
            "--log-path",
            str(self.path / "logs"),
        ]


def storage_vars(target: StorageTarget) -> dict[str, Any]:
    """The dbt vars that make the package resolve this store's schema and table names."""
    values: dict[str, Any] = {"profilemesh_schema": target.schema, **target.storage.table_vars()}
    ttl = os.environ.get(LOCK_TTL_ENV)
    if ttl:  # the Snowflake migration lease's TTL (default 300 s); see docs/schemas/MIGRATION_GUIDE.md
        values["profilemesh_lock_ttl_seconds"] = lock_ttl_seconds(ttl)
    return values


def profile_yaml(target: StorageTarget) -> str:
    """profiles.yml for the store's connection; the password is an env_var() reference."""
    password_ref = "{{ env_var('" + DBT_PASSWORD_ENV + "', '') }}"
    output = {**target.warehouse.dbt_output(target.connection, password_ref), "threads": 1}
    profile = {PROFILE_NAME: {"target": TARGET_NAME, "outputs": {TARGET_NAME: output}}}
    return yaml.safe_dump(profile, sort_keys=True)


def dbt_version() -> str:
    from importlib import metadata

    return metadata.version("dbt-core")


def private_workdir(target: StorageTarget, package: DbtPackage, vars_json: str) -> Workdir:
    text = profile_yaml(target)
    key = (str(package.root.resolve()), text, vars_json)
    with _WORKDIRS_LOCK:
        known = _WORKDIRS.get(key)
        if known is None or not known.path.is_dir():
            path = Path(tempfile.mkdtemp(prefix="profilemesh-dbt-"))
            atexit.register(shutil.rmtree, path, True)
            profiles = path / "profiles.yml"
            profiles.write_text(text, encoding="utf-8")
            profiles.chmod(0o600)
            # dbt's version too: a parse saved by another dbt version is thrown away by dbt (two virtualenvs
            # on two dbt versions share the cache: the SQLite lane's and the main one).
            cache = ParseCache(entry_key(*key, dbt_version()), path / "target")
            cache.seed()
            known = _WORKDIRS[key] = Workdir(path, cache)
    return known


@contextlib.contextmanager
def variables_in_env(values: dict[str, str]) -> Iterator[None]:
    """Environment variables set for the duration of one dbt invocation (the password never touches a file)."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
