"""What a loaded profilemesh.yml is: dataclasses only (loading and validating is loader.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from profilemesh.config.alerts import AlertSettings
from profilemesh.config.drift_settings import DriftSettings
from profilemesh.config.monitor import MonitorSettings
from profilemesh.config.settings import ProfilingSettings
from profilemesh.contract import DEFAULT_TABLE_NAMES
from profilemesh.warehouses import ConnectionConfig

# The storage keys that rename a storage table, and the table each renames (key in the contract).
TABLE_NAME_KEYS = {f"{table}_table": table for table in DEFAULT_TABLE_NAMES}


@dataclass(frozen=True)
class DbtProfileRef:
    """Reuse of an existing dbt profile instead of `storage.connection`."""

    profile: str
    target: str | None
    profiles_dir: str | None
    # Where the store is, over the target's own schema and database: `storage.schema` / `storage.database`,
    # else the dbt project's `profilemesh_schema` / `profilemesh_database` vars (`storage.dbt_project_dir`).
    schema: str | None = None
    database: str | None = None


@dataclass(frozen=True)
class StorageConfig:
    connection: ConnectionConfig | None
    dbt_profile: DbtProfileRef | None = None
    # Storage table key ("runs", ...) -> the name it has in this store (overrides of the defaults).
    table_names: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TABLE_NAMES))

    def table_vars(self) -> dict[str, str]:
        """The dbt vars that make the package resolve the same table names."""
        return {f"profilemesh_{table}_table": name for table, name in self.table_names.items()}


@dataclass(frozen=True)
class Config:
    path: str | None
    environment: str
    storage: StorageConfig
    source: ConnectionConfig | None = None
    profiling: ProfilingSettings = field(default_factory=ProfilingSettings)
    drift: DriftSettings = field(default_factory=DriftSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
