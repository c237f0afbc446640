"""The one object every command takes first (as alembic's commands take a Config): the loaded config,
the resolved store, the dbt package, and how to report (debug, hooks)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from profilemesh.config import Config, DbtProfileRef, load_config
from profilemesh.dbt.package import DbtPackage
from profilemesh.dbt.session import DbtSession
from profilemesh.hooks import NO_HOOKS, Hooks
from profilemesh.store.ledger import LedgerSnapshot
from profilemesh.store.state import StoreState
from profilemesh.store.target import StorageTarget, resolve_storage

if TYPE_CHECKING:
    from profilemesh.dbt.project import DbtSelection


@dataclass(frozen=True)
class Context:
    config: Config
    target: StorageTarget
    package: DbtPackage = field(default_factory=DbtPackage.installed)
    debug: bool = False
    hooks: Hooks = NO_HOOKS
    # What merging a dbt project's settings reported (with_dbt_project): conflicts, nodes left out.
    notices: tuple[str, ...] = ()

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

    def with_dbt_project(self, selection: DbtSelection) -> Context:
        """This context with a dbt project's selected nodes as the tables to profile (each with its dbt
        unique id), their `profilemesh` meta merged into the settings (config/dbt_meta.py: the order and
        the conflicts, which land in `notices`), and, unless profilemesh.yml sets `source`, the tables
        read through the project's own profile and target."""
        from profilemesh.config.dbt_meta import merge_dbt_nodes
        from profilemesh.config.dbt_profiles import connection_from_dbt_profile
        from profilemesh.dbt.project import read_project
        from profilemesh.errors import UsageError

        project = read_project(selection)
        source = self.config.source or connection_from_dbt_profile(
            DbtProfileRef(project.profile, selection.target, str(selection.resolved_profiles_dir())),
            self.config.path,
        )
        notices = [f"note: {uid}: an ephemeral model is no relation, not profiled" for uid in project.ephemeral]
        nodes = []
        for node in project.nodes:
            if node.database and source.database and node.database.lower() != source.database.lower():
                notices.append(
                    f"warning: {node.relation} ({node.unique_id}) is in database {node.database}, the source "
                    f"connection reads {source.database}: not profiled"
                )
            else:
                nodes.append(node)
        merged = merge_dbt_nodes(dataclasses.replace(self.config, source=source), nodes)
        notices += merged.warnings
        if not merged.config.profiling.tables:
            disabled = f" ({len(merged.disabled)} with profilemesh enabled: false)" if merged.disabled else ""
            raise UsageError(
                f"dbt project {selection.project_dir}: the selection matched no model, seed, snapshot or source "
                f"to profile{disabled}"
            )
        return dataclasses.replace(self, config=merged.config, notices=(*self.notices, *notices))
