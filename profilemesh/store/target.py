"""What every command works against: the resolved storage connection (from `storage.connection`, or
read out of an existing dbt profile), the storage table names, and the warehouse class."""

from __future__ import annotations

from dataclasses import dataclass

from profilemesh.config import Config, ConnectionConfig, StorageConfig
from profilemesh.config.dbt_profiles import connection_from_dbt_profile
from profilemesh.config.names import check_storage_names
from profilemesh.contract import LEDGER_TABLE
from profilemesh.warehouses import Warehouse, warehouse_for


@dataclass(frozen=True)
class StorageTarget:
    connection: ConnectionConfig
    storage: StorageConfig
    environment: str = "default"

    @property
    def warehouse(self) -> Warehouse:
        return warehouse_for(self.connection.type)

    @property
    def schema(self) -> str:
        assert self.connection.schema is not None  # every warehouse class fills in its default schema
        return self.connection.schema

    def table_name(self, table: str) -> str:
        """The physical name of a storage table key (`runs`, `results`, `events`, `table_state`)."""
        return LEDGER_TABLE if table == "schema_version" else self.storage.table_names[table]

    def describe(self) -> str:
        """Where the store is, for messages; never includes the password."""
        return self.warehouse.describe(self.connection)

    def absent(self) -> bool:
        """True when the store cannot exist, known without connecting (a DuckDB file that is not there)."""
        return self.warehouse.store_absent(self.connection)


def resolve_storage(config: Config) -> StorageTarget:
    """The config's storage target, its names checked against the rules of its warehouse."""
    storage = config.storage
    if storage.dbt_profile is not None:
        connection = connection_from_dbt_profile(storage.dbt_profile, config.path)
        prefix = "storage.dbt_profile"
    else:
        assert storage.connection is not None  # the loader requires one or the other
        connection = storage.connection
        prefix = "storage.connection"
    warehouse = warehouse_for(connection.type)
    names = {f"{prefix}.schema": connection.schema or ""}
    names.update({f"{prefix}.{key}": name for key, name in warehouse.database_names(connection).items()})
    names.update({f"storage.{table}_table": name for table, name in storage.table_names.items()})
    check_storage_names(config.path, connection.type, names)
    return StorageTarget(connection=connection, storage=storage, environment=config.environment)
