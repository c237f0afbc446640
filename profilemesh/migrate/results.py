"""What the migration commands return: typed results, read once from the engine's payloads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from profilemesh.store.ledger import Attempt
from profilemesh.store.locks import LockHolder


@dataclass(frozen=True)
class StepAction:
    step: str
    action: str  # applied | skipped (already in place) | already in place | undone

    @classmethod
    def read(cls, data: dict[str, Any]) -> StepAction:
        return cls(str(data["step"]), str(data["action"]))


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    description: str
    operation: str  # apply | adopt
    attempt_id: int
    steps: tuple[StepAction, ...]

    @classmethod
    def read(cls, data: dict[str, Any]) -> AppliedMigration:
        return cls(
            int(data["version"]),
            str(data["description"]),
            str(data["operation"]),
            int(data["attempt_id"]),
            tuple(StepAction.read(s) for s in data["steps"]),
        )


@dataclass
class ApplyResult:
    """`migrate apply`: what was applied (or, in a dry run, the exact SQL it would run)."""

    dry_run: bool
    from_version: int
    to_version: int
    head: int
    adopted_tables: list[str]
    applied: list[AppliedMigration]
    statements: list[str]
    views: list[str] = field(default_factory=list)  # query views built
    views_current: bool = False  # at head with nothing to apply, and the views were this package's own build
    granted_read: list[str] = field(default_factory=list)  # roles granted read access (--grant-read)

    @classmethod
    def read(cls, data: dict[str, Any]) -> ApplyResult:
        return cls(
            dry_run=bool(data["dry_run"]),
            from_version=int(data["from_version"]),
            to_version=int(data["to_version"]),
            head=int(data["head"]),
            adopted_tables=list(data["adopted_tables"]),
            applied=[AppliedMigration.read(m) for m in data["applied"]],
            statements=list(data["statements"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class RepairResult:
    """`migrate repair`: nothing to repair (`repaired` false), or how an unfinished attempt was resolved."""

    dry_run: bool
    repaired: bool
    attempt_id: int | None = None  # the repair's own attempt
    version: int | None = None
    outcome: str | None = None  # succeeded (finished) | rolled_back
    note: str = ""
    effective_steps: list[str] = field(default_factory=list)  # steps that had taken effect before
    resolved_attempts: list[int] = field(default_factory=list)
    actions: list[StepAction] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)  # rebuilt when the repair finished a migration to head

    @classmethod
    def read(cls, data: dict[str, Any]) -> RepairResult:
        if "note" not in data:
            return cls(dry_run=bool(data["dry_run"]), repaired=False, statements=list(data.get("statements", [])))
        return cls(
            dry_run=bool(data["dry_run"]),
            repaired=True,
            attempt_id=int(data["attempt_id"]),
            version=int(data["version"]),
            outcome=str(data["outcome"]),
            note=str(data["note"]),
            effective_steps=list(data["effective_steps"]),
            resolved_attempts=[int(a) for a in data["resolved_attempts"]],
            actions=[StepAction.read(a) for a in data["actions"]],
            statements=list(data["statements"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class PendingMigration:
    version: int
    title: str


@dataclass
class MigrationStatus:
    store: str
    warehouse: str
    db_version: int
    head_version: int
    state: str  # up_to_date | behind | ahead | unversioned | failed_attempt | in_progress
    message: str
    pending: list[PendingMigration] = field(default_factory=list)
    last_attempt: Attempt | None = None
    unresolved: list[Attempt] = field(default_factory=list)
    lock_holder: LockHolder | None = None
    unversioned_tables: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 only when the store is at the code's head with no failed attempt."""
        return 0 if self.state == "up_to_date" else 1

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["lock_holder"] = None if self.lock_holder is None else self.lock_holder.to_dict()
        return data


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
        return {"valid": self.valid, **dataclasses.asdict(self)}


@dataclass
class UnlockResult:
    holder: LockHolder | None
    released: bool
    message: str

    @property
    def exit_code(self) -> int:
        """0 released or nothing to release, 1 refused (the lock is live, or cannot be released)."""
        return 0 if self.released or self.holder is None else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "holder": None if self.holder is None else self.holder.to_dict(),
            "released": self.released,
            "message": self.message,
            "exit_code": self.exit_code,
        }


@dataclass(frozen=True)
class CodeCatalog:
    """The code's view of the schema (`profilemesh_describe`): migrations with checksums, the storage
    relations, and the catalog expected at `catalog_version`."""

    head: int
    migrations: list[dict[str, Any]]
    relations: dict[str, dict[str, str]]
    catalog_version: int
    catalog: dict[str, Any]
    warehouse: str

    @classmethod
    def read(cls, data: dict[str, Any]) -> CodeCatalog:
        return cls(
            head=int(data["head"]),
            migrations=list(data["migrations"]),
            relations=dict(data["relations"]),
            catalog_version=int(data["catalog_version"]),
            catalog=dict(data["catalog"]),
            warehouse=str(data["dialect"]),
        )
