"""Loading and validating profilemesh.yml (or .json).

The shape is the one ProfileMesh-era configs already have, so existing files keep working:
`environment`, `source`, `storage.connection`, plus `storage.runs_table`/`results_table` overrides.
Secrets come from the environment through `${VAR}` (or `${VAR:-default}`) substitution, applied to
string values after parsing, so a password may contain any character.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from profilemesh.errors import ConfigError, unknown_key_message
from profilemesh.profiling.settings import DriftSettings, ProfilingSettings, parse_drift, parse_profiling

DEFAULT_CONFIG_FILE = "profilemesh.yml"
DEFAULT_DUCKDB_FILE = "profilemesh.duckdb"

CONNECTION_TYPES = ("duckdb", "postgres", "snowflake")
_CONNECTION_KEYS = {
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
}
_STORAGE_KEYS = {
    "connection",
    "runs_table",
    "results_table",
    "events_table",
    "table_state_table",
    "dbt_profile",
    "dbt_target",
    "profiles_dir",
}
_TOP_LEVEL_KEYS = {"environment", "source", "storage", "profiling", "drift_detection"}
_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TABLE_NAME_PATTERN = re.compile(r"^[^\x00]{1,255}$")


@dataclass(frozen=True)
class ConnectionConfig:
    """One warehouse connection. The password never appears in repr() or logs."""

    type: str
    host: str | None = None
    port: int | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    filepath: str | None = None
    account: str | None = None
    warehouse: str | None = None
    role: str | None = None
    extra_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DbtProfileRef:
    """Reuse of an existing dbt profile instead of `storage.connection`."""

    profile: str
    target: str | None
    profiles_dir: str | None


@dataclass(frozen=True)
class StorageConfig:
    connection: ConnectionConfig | None
    dbt_profile: DbtProfileRef | None = None
    runs_table: str = "profilemesh_runs"
    results_table: str = "profilemesh_results"
    events_table: str = "profilemesh_events"
    table_state_table: str = "profilemesh_table_state"

    def table_vars(self) -> dict[str, str]:
        """The dbt vars that make the package resolve the same table names."""
        return {
            "profilemesh_runs_table": self.runs_table,
            "profilemesh_results_table": self.results_table,
            "profilemesh_events_table": self.events_table,
            "profilemesh_table_state_table": self.table_state_table,
        }


@dataclass(frozen=True)
class Config:
    path: str | None
    environment: str
    storage: StorageConfig
    source: ConnectionConfig | None = None
    profiling: ProfilingSettings = field(default_factory=ProfilingSettings)
    drift: DriftSettings = field(default_factory=DriftSettings)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def default_config(base_dir: Path | None = None) -> Config:
    """The embedded default: a DuckDB file in the working directory."""
    base = base_dir or Path.cwd()
    connection = ConnectionConfig(type="duckdb", filepath=str(base / DEFAULT_DUCKDB_FILE), schema="main")
    return Config(path=None, environment="default", storage=StorageConfig(connection=connection), source=connection)


def load_config(path: str | os.PathLike[str] | None = None, *, env: dict[str, str] | None = None) -> Config:
    """Load the config file; without one (and no ./profilemesh.yml), the embedded DuckDB default.

    An explicitly named file that does not exist is an error, never a silent fallback.
    """
    environ = dict(os.environ if env is None else env)
    if path is None:
        candidate = Path(DEFAULT_CONFIG_FILE)
        if not candidate.exists():
            return default_config()
        path = candidate
    file_path = Path(path)
    shown = str(path)
    if not file_path.is_file():
        raise ConfigError(shown, None, "config file not found")
    try:
        text = file_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(shown, None, f"cannot read config file ({exc})") from exc
    data = _parse(text, shown, is_json=file_path.suffix.lower() == ".json")
    data = _substitute(data, environ, shown, "")
    return _build(data, shown, file_path.parent)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse(text: str, shown: str, *, is_json: bool) -> dict[str, Any]:
    try:
        data = json.loads(text) if is_json else yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(shown, None, f"not valid {'JSON' if is_json else 'YAML'}{where}: {reason}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(shown, None, "the top level must be a mapping")
    return data


def _substitute(value: Any, environ: dict[str, str], shown: str, key: str) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, environ, shown, f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, environ, shown, f"{key}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(shown, key, f"environment variable {name} is not set")

    return _ENV_PATTERN.sub(replace, value)


def _build(data: dict[str, Any], shown: str, base_dir: Path) -> Config:
    _reject_unknown(data, _TOP_LEVEL_KEYS, shown, "")
    environment = _optional_str(data, "environment", shown, "") or "default"
    storage_data = data.get("storage")
    if storage_data is None:
        raise ConfigError(shown, "storage", "missing (add storage.connection or storage.dbt_profile)")
    if not isinstance(storage_data, dict):
        raise ConfigError(shown, "storage", "must be a mapping")
    _reject_unknown(storage_data, _STORAGE_KEYS, shown, "storage")

    connection = None
    dbt_ref = None
    if "dbt_profile" in storage_data:
        if "connection" in storage_data:
            raise ConfigError(shown, "storage", "give either connection or dbt_profile, not both")
        dbt_ref = DbtProfileRef(
            profile=_required_str(storage_data, "dbt_profile", shown, "storage"),
            target=_optional_str(storage_data, "dbt_target", shown, "storage"),
            profiles_dir=_optional_str(storage_data, "profiles_dir", shown, "storage"),
        )
    else:
        for key in ("dbt_target", "profiles_dir"):
            if key in storage_data:
                raise ConfigError(shown, f"storage.{key}", "only valid together with storage.dbt_profile")
        conn_data = storage_data.get("connection")
        if conn_data is None:
            raise ConfigError(shown, "storage.connection", "missing")
        connection = parse_connection(conn_data, shown, "storage.connection", base_dir)

    tables = {}
    for key in ("runs_table", "results_table", "events_table", "table_state_table"):
        if key in storage_data:
            name = _required_str(storage_data, key, shown, "storage")
            if not _TABLE_NAME_PATTERN.match(name):
                raise ConfigError(shown, f"storage.{key}", "must be 1 to 255 characters")
            tables[key] = name
    if len(set(tables.values())) != len(tables):
        raise ConfigError(shown, "storage", "table-name overrides must be distinct")
    storage = StorageConfig(connection=connection, dbt_profile=dbt_ref, **tables)

    source = None
    if data.get("source") is not None:
        source = parse_connection(data["source"], shown, "source", base_dir)
    return Config(
        path=shown,
        environment=environment,
        storage=storage,
        source=source,
        profiling=parse_profiling(data.get("profiling"), shown),
        drift=parse_drift(data.get("drift_detection"), shown),
        raw=data,
    )


def parse_connection(data: Any, shown: str, key: str, base_dir: Path) -> ConnectionConfig:
    if not isinstance(data, dict):
        raise ConfigError(shown, key, "must be a mapping")
    _reject_unknown(data, _CONNECTION_KEYS, shown, key)
    conn_type = _required_str(data, "type", shown, key).lower()
    if conn_type not in CONNECTION_TYPES:
        raise ConfigError(shown, f"{key}.type", f"'{conn_type}' is not one of {', '.join(CONNECTION_TYPES)}")
    port = data.get("port")
    if port is not None:
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ConfigError(shown, f"{key}.port", "must be a port number (1-65535)")
    extra = data.get("extra_params") or {}
    if not isinstance(extra, dict):
        raise ConfigError(shown, f"{key}.extra_params", "must be a mapping")
    values = {
        name: _optional_str(data, name, shown, key)
        for name in ("host", "database", "username", "password", "schema", "filepath", "account", "warehouse", "role")
    }
    if conn_type == "duckdb":
        filepath = values["filepath"] or values["database"] or DEFAULT_DUCKDB_FILE
        if filepath != ":memory:":
            filepath = str((base_dir / Path(filepath).expanduser()).resolve())
        values["filepath"] = filepath
        values["schema"] = values["schema"] or "main"
    elif conn_type == "postgres":
        for required in ("host", "database", "username"):
            if not values[required]:
                raise ConfigError(shown, f"{key}.{required}", "required for a postgres connection")
        values["schema"] = values["schema"] or "public"
    else:
        if not values["account"] and "host" not in extra:
            raise ConfigError(shown, f"{key}.account", "required for a snowflake connection")
        for required in ("username", "database"):
            if not values[required]:
                raise ConfigError(shown, f"{key}.{required}", "required for a snowflake connection")
        values["schema"] = values["schema"] or "PUBLIC"
    return ConnectionConfig(type=conn_type, port=port, extra_params=dict(extra), **values)


def _reject_unknown(data: dict[str, Any], allowed: set[str], shown: str, prefix: str) -> None:
    for key in data:
        if key not in allowed:
            full = f"{prefix}.{key}" if prefix else str(key)
            raise ConfigError(shown, full, unknown_key_message(key, allowed))


def _optional_str(data: dict[str, Any], name: str, shown: str, prefix: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        full = f"{prefix}.{name}" if prefix else name
        raise ConfigError(shown, full, f"must be a string, not {type(value).__name__}")
    return str(value)


def _required_str(data: dict[str, Any], name: str, shown: str, prefix: str) -> str:
    value = _optional_str(data, name, shown, prefix)
    if not value:
        full = f"{prefix}.{name}" if prefix else name
        raise ConfigError(shown, full, "required")
    return value
