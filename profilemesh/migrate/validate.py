"""`migrate validate`: live conformance of the store against the code, every problem listed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from profilemesh.connection import StorageTarget, duckdb_file_exists
from profilemesh.migrate.catalog import compare, live_catalog
from profilemesh.migrate.ledger import connect, read_ledger_on
from profilemesh.migrate.operations import describe


@dataclass
class ValidationReport:
    db_version: int
    head_version: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.valid else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "db_version": self.db_version,
            "head_version": self.head_version,
            "problems": self.problems,
            "warnings": self.warnings,
        }


def validate(target: StorageTarget, *, debug: bool = False, package: Path | None = None) -> ValidationReport:
    # The code's view comes from dbt (describe); the store's from SQLAlchemy, read after dbt has let
    # go of a DuckDB file.
    code = describe(target, debug=debug, package=package)
    head = code["head"]
    if not duckdb_file_exists(target.connection):
        return ValidationReport(0, head, problems=[f"no store at {target.connection.filepath}"])
    with connect(target) as conn:
        snapshot = read_ledger_on(conn, target)
        current = snapshot.current_version
        report = ValidationReport(db_version=current, head_version=head)
        if not snapshot.exists:
            report.problems.append("the ledger profilemesh_schema_version is missing: run `profilemesh migrate apply`")
            return report
        version = min(current, head)
        expected = code["catalog"] if version == code["catalog_version"] else None
        live = live_catalog(conn, code["relations"], sorted(expected or {}))
    if expected is None:
        code = describe(target, version, debug=debug, package=package)
        expected = code["catalog"]
        with connect(target) as conn:
            live = live_catalog(conn, code["relations"], sorted(expected))

    if current > head:
        report.problems.append(
            f"storage is at version {current}, ahead of this ProfileMesh (head {head}): upgrade profilemesh"
        )
    by_version = {m["version"]: m for m in code["migrations"]}
    for version_applied, recorded in sorted(snapshot.applied_checksums().items()):
        migration = by_version.get(version_applied)
        if migration is None:
            continue
        if recorded.split(":", 1)[0] != migration["checksum"].split(":", 1)[0]:
            report.warnings.append(
                f"migration {version_applied}: checksum recorded with another algorithm ({recorded}); not compared"
            )
        elif recorded != migration["checksum"]:
            report.problems.append(
                f"migration {version_applied} ({migration['script']}) was edited after it was "
                f"applied: checksum {recorded} recorded, {migration['checksum']} in the code"
            )
    for attempt in snapshot.unresolved:
        report.problems.append(
            f"attempt {attempt['attempt_id']} ({attempt['operation']} of version "
            f"{attempt['version']}) is {attempt['status']}: run `profilemesh migrate repair`"
        )
    problems, warnings = compare(expected, live, code["relations"], code["dialect"])
    report.problems.extend(problems)
    report.warnings.extend(warnings)
    return report
