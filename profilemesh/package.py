"""Where the dbt package lives, and what migrations it holds (read from file names, without dbt).

In a wheel the package ships as `profilemesh/dbt_package/`; in a source checkout (or an editable
install) it is the repository root. PROFILEMESH_PACKAGE_DIR points elsewhere (development, tests).
"""

from __future__ import annotations

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


def package_dir() -> Path:
    override = os.environ.get(PACKAGE_DIR_ENV)
    if override:
        candidates = [Path(override)]
    else:
        here = Path(__file__).resolve().parent
        candidates = [here / "dbt_package", here.parent]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file() and (candidate / MIGRATIONS_SUBDIR).is_dir():
            return candidate
    raise UsageError(f"the ProfileMesh dbt package was not found (looked in {', '.join(map(str, candidates))})")


def migration_files(root: Path | None = None) -> list[MigrationFile]:
    """Migrations in version order; numbering must be 1..N without gaps (the engine checks too)."""
    directory = (root or package_dir()) / MIGRATIONS_SUBDIR
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if not match:
            raise UsageError(f"{path}: migration files are named VNNNN__slug.sql")
        found.append(MigrationFile(int(match.group(1)), match.group(2), path))
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise UsageError(f"{migration.path}: expected version {expected}; migrations are numbered without gaps")
    return found


def head_version(root: Path | None = None) -> int:
    return len(migration_files(root))


def package_fingerprint(root: Path | None = None) -> str:
    """A digest of every file of the dbt package. The query views record the one that built them, so a
    no-op `migrate apply` rebuilds them only after the package changed (or when one is missing)."""
    root = root or package_dir()
    files = [root / "dbt_project.yml", *(p for p in (root / "dbt_profilemesh").rglob("*") if p.is_file())]
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
