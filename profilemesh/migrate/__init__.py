"""Library API for the storage schema: status, apply, repair, validate, history.

The CLI is a thin layer over these functions; tests and other programs call them directly.
"""

from profilemesh.migrate.operations import apply, repair
from profilemesh.migrate.status import MigrationStatus, history, migration_status
from profilemesh.migrate.validate import ValidationReport, validate

__all__ = [
    "MigrationStatus",
    "ValidationReport",
    "apply",
    "history",
    "migration_status",
    "repair",
    "validate",
]
