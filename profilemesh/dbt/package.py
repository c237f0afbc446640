"""The ProfileMesh dbt package: where it lives, the migrations it holds (read from file names,
without dbt) and a fingerprint of its files.

In a wheel the package ships as `profilemesh/dbt_package/`; in a source checkout (or an editable
install) it is the repository root. A program may point a Context at another copy (a patched or
vendored package); the CLI does so when PROFILEMESH_PACKAGE_DIR is set (development).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from profilemesh.errors import UsageError

PACKAGE_DIR_ENV = "PROFILEMESH_PACKAGE_DIR"
MIGRATIONS_SUBDIR = Path("dbt_profilemesh") / "macros" / "migrations"
_MIGRATION_FILE = re.compile(r"^V(\d{4})__([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class MigrationFile:
    version: int
    slug: str
    path: Path

    @property
    def title(self) -> str:
        return self.slug.replace("_", " ")


@dataclass(frozen=True)
class DbtPackage:
    """One copy of the dbt package. Its migration files are the schema's single source: the engine finds
    them by macro name, Python by file name (a test checks both see the same list)."""

    root: Path

    @classmethod
    def installed(cls) -> DbtPackage:
        """The package that ships with this ProfileMesh (or PROFILEMESH_PACKAGE_DIR's, when set)."""
        override = os.environ.get(PACKAGE_DIR_ENV)
        return _installed(override)

    @property
    def migrations(self) -> tuple[MigrationFile, ...]:
        """Migrations in version order; numbering must be 1..N without gaps (the engine checks too)."""
        directory = self.root / MIGRATIONS_SUBDIR
        found = []
        for path in sorted(directory.glob("*.sql")):
            match = _MIGRATION_FILE.match(path.name)
            if not match:
                raise UsageError(f"{path}: migration files are named VNNNN__slug.sql")
            found.append(MigrationFile(int(match.group(1)), match.group(2), path))
        for expected, migration in enumerate(found, start=1):
            if migration.version != expected:
                raise UsageError(f"{migration.path}: expected version {expected}; migrations are numbered without gaps")
        return tuple(found)

    @property
    def head(self) -> int:
        """The newest version this package migrates to."""
        return len(self.migrations)

    def fingerprint(self) -> str:
        """A digest of every file of the package. The query views record the one that built them, so a
        no-op `migrate apply` rebuilds them only after the package changed (or when one is missing).
        Read from disk on every call: a program may edit a package copy between commands."""
        files = [self.root / "dbt_project.yml", *(p for p in (self.root / "dbt_profilemesh").rglob("*") if p.is_file())]
        digest = hashlib.sha256()
        for path in sorted(files):
            digest.update(path.relative_to(self.root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]


@functools.cache
def _installed(override: str | None) -> DbtPackage:
    if override:
        candidates = [Path(override)]
    else:
        here = Path(__file__).resolve().parent.parent
        candidates = [here / "dbt_package", here.parent]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file() and (candidate / MIGRATIONS_SUBDIR).is_dir():
            return DbtPackage(candidate)
    raise UsageError(f"the ProfileMesh dbt package was not found (looked in {', '.join(map(str, candidates))})")
