"""`migrate validate`: live conformance of the store against the code, every problem listed."""

from __future__ import annotations

from profilemesh.context import Context
from profilemesh.migrate.catalog import compare, live_catalog
from profilemesh.migrate.results import CodeCatalog, ValidationReport
from profilemesh.store.connect import connect
from profilemesh.store.ledger import read_ledger_on


def describe(ctx: Context, version: int | None = None) -> CodeCatalog:
    """The code's migrations, checksums, relations and the expected catalog at `version` (default head)."""
    return CodeCatalog.read(ctx.dbt().run_operation("profilemesh_describe", {"version": version}).result())


def validate(ctx: Context) -> ValidationReport:
    # The code's view comes from dbt (describe); the store's from SQLAlchemy, read after dbt has let
    # go of a DuckDB file.
    code = describe(ctx)
    head = code.head
    if ctx.target.absent():
        return ValidationReport(0, head, problems=[f"no store at {ctx.target.connection.filepath}"])
    with connect(ctx.target) as conn:
        snapshot = read_ledger_on(conn, ctx.target)
        current = snapshot.current_version
        report = ValidationReport(db_version=current, head_version=head)
        if not snapshot.exists:
            report.problems.append("the ledger profilemesh_schema_version is missing: run `profilemesh migrate apply`")
            return report
        version = min(current, head)
        if version == code.catalog_version:
            live = live_catalog(conn, code.relations, sorted(code.catalog))
    if version != code.catalog_version:
        code = describe(ctx, version)
        with connect(ctx.target) as conn:
            live = live_catalog(conn, code.relations, sorted(code.catalog))

    state = ctx.store_state(snapshot)
    if current > head:
        report.problems.append(state.ahead())
    by_version = {m["version"]: m for m in code.migrations}
    for version_applied, recorded in sorted(snapshot.applied_checksums().items()):
        migration = by_version.get(version_applied)
        if migration is None or recorded is None:
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
    report.problems.extend(state.unfinished(attempt) for attempt in snapshot.unresolved)
    problems, warnings = compare(code.catalog, live, code.relations, ctx.target.warehouse.json_family)
    report.problems.extend(problems)
    report.warnings.extend(warnings)
    return report
