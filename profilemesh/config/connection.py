"""A connection mapping (`storage.connection`, `source`, or a dbt profile's output) -> ConnectionConfig.
The keys are common to every warehouse; what each one requires and defaults is its class's business."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from profilemesh.config.values import mapping, optional_str, required_str
from profilemesh.errors import ConfigError
from profilemesh.warehouses import WAREHOUSE_TYPES, ConnectionConfig, warehouse_for

CONNECTION_KEYS = (
    "type",
    "host",
    "port",
    "database",
    "username",
    "password",
    "schema",
    "filepath",
    "account",
    "warehouse",
    "role",
    "extra_params",
)
_TEXT_KEYS = ("host", "database", "username", "password", "schema", "filepath", "account", "warehouse", "role")


def parse_connection(data: Any, shown: str, key: str, base_dir: Path) -> ConnectionConfig:
    mapping(data, shown, key, CONNECTION_KEYS)
    conn_type = required_str(data, "type", shown, key).lower()
    if conn_type not in WAREHOUSE_TYPES:
        raise ConfigError(shown, f"{key}.type", f"'{conn_type}' is not one of {', '.join(WAREHOUSE_TYPES)}")
    port = data.get("port")
    if port is not None:
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ConfigError(shown, f"{key}.port", "must be a port number (1-65535)")
    extra = data.get("extra_params") or {}
    if not isinstance(extra, dict):
        raise ConfigError(shown, f"{key}.extra_params", "must be a mapping")
    if not isinstance(extra.get("settings") or {}, dict):  # merged under ProfileMesh's own (dbt-duckdb's settings)
        raise ConfigError(shown, f"{key}.extra_params.settings", "must be a mapping of setting to value")
    values: dict[str, Any] = {name: optional_str(data, name, shown, key) for name in _TEXT_KEYS}
    warehouse = warehouse_for(conn_type)
    problem = warehouse.install_problem()
    if problem:
        raise ConfigError(shown, f"{key}.type", problem)
    values = warehouse.complete(values, shown, key, base_dir)
    return ConnectionConfig(type=conn_type, port=port, extra_params=dict(extra), **values)
