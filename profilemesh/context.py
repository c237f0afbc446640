"""The one object every command takes first (as alembic's commands take a Config): the loaded config,
the resolved store, the dbt package, and how to report (debug, hooks)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from profilemesh.config import Config, load_config
from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.session import DbtSession
from profilemesh.hooks import NO_HOOKS, Hooks
from profilemesh.store.ledger import LedgerSnapshot
from profilemesh.store.state import StoreState
from profilemesh.store.target import StorageTarget, resolve_storage


@dataclass(frozen=True)
class Context:
    config: Config
    target: StorageTarget
    package: DbtPackage = field(default_factory=DbtPackage.installed)
    debug: bool = False
    hooks: Hooks = NO_HOOKS

    @classmethod
    def load(
        cls,
        config_path: str | os.PathLike[str] | None = None,
        *,
        package: DbtPackage | None = None,
        debug: bool = False,
        hooks: Hooks = NO_HOOKS,
    ) -> Context:
        """From a config file (default ./profilemesh.yml; without one, the embedded DuckDB store)."""
        return cls.from_config(load_config(config_path), package=package, debug=debug, hooks=hooks)

    @classmethod
    def from_config(
        cls, config: Config, *, package: DbtPackage | None = None, debug: bool = False, hooks: Hooks = NO_HOOKS
    ) -> Context:
        return cls(config, resolve_storage(config), package or DbtPackage.installed(), debug, hooks)

    @property
    def head(self) -> int:
        """The newest schema version this context's package knows."""
        return self.package.head

    def dbt(self) -> DbtSession:
        """A session running this context's package against its store."""
        return DbtSession(self.target, self.package, debug=self.debug, hooks=self.hooks)

    def store_state(self, ledger: LedgerSnapshot) -> StoreState:
        return StoreState(ledger, self.head, self.target.describe())
