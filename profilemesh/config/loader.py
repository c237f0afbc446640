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
from pathlib import Path
from typing import Any

import yaml

from profilemesh.config.alerts import parse_alerts
from profilemesh.config.connection import parse_connection
from profilemesh.config.dbt_profiles import dbt_profile_ref
from profilemesh.config.drift_settings import parse_drift
from profilemesh.config.model import TABLE_NAME_KEYS, Config, StorageConfig
from profilemesh.config.monitor import parse_monitor
from profilemesh.config.settings import parse_profiling
from profilemesh.config.values import mapping, optional_str, required_str
from profilemesh.contract import DEFAULT_TABLE_NAMES
from profilemesh.errors import ConfigError
from profilemesh.warehouses import ConnectionConfig
from profilemesh.warehouses.duckdb import DEFAULT_FILE as DEFAULT_DUCKDB_FILE

DEFAULT_CONFIG_FILE = "profilemesh.yml"
_DBT_KEYS = ("dbt_target", "profiles_dir", "dbt_project_dir", "schema", "database")
_STORAGE_KEYS = ("connection", "dbt_profile", *_DBT_KEYS, *TABLE_NAME_KEYS)
_TOP_LEVEL_KEYS = ("environment", "source", "storage", "profiling", "drift_detection", "alerts", "monitor")
_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TABLE_NAME_PATTERN = re.compile(r"^[^\x00]{1,255}$")


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
            key = self.construct_object(key_node, deep=deep)
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
    mapping(data, shown, "", _TOP_LEVEL_KEYS)
    environment = optional_str(data, "environment", shown, "") or "default"
    storage_data = data.get("storage")
    if storage_data is None:
        raise ConfigError(shown, "storage", "missing (add storage.connection or storage.dbt_profile)")
    mapping(storage_data, shown, "storage", _STORAGE_KEYS)
    source = None
    if data.get("source") is not None:
        source = parse_connection(data["source"], shown, "source", base_dir)
    return Config(
        path=shown,
        environment=environment,
        storage=_storage(storage_data, shown, base_dir),
        source=source,
        profiling=parse_profiling(data.get("profiling"), shown, base_dir),
        drift=parse_drift(data.get("drift_detection"), shown),
        alerts=parse_alerts(data.get("alerts"), shown),
        monitor=parse_monitor(data.get("monitor"), shown),
        raw=data,
    )


def _path(value: str | None, base_dir: Path) -> Path | None:
    return None if value is None else (base_dir / Path(value).expanduser())


def _storage(data: dict[str, Any], shown: str, base_dir: Path) -> StorageConfig:
    connection = None
    dbt_ref = None
    if "dbt_profile" in data or "dbt_project_dir" in data:
        if "connection" in data:
            raise ConfigError(shown, "storage", "give either connection or dbt_profile, not both")
        dbt_ref = dbt_profile_ref(
            profile=optional_str(data, "dbt_profile", shown, "storage"),
            target=optional_str(data, "dbt_target", shown, "storage"),
            profiles_dir=optional_str(data, "profiles_dir", shown, "storage"),
            project_dir=_path(optional_str(data, "dbt_project_dir", shown, "storage"), base_dir),
            schema=optional_str(data, "schema", shown, "storage"),
            database=optional_str(data, "database", shown, "storage"),
            shown=shown,
        )
    else:
        for key in _DBT_KEYS:
            if key in data:
                message = "only valid together with storage.dbt_profile"
                if key in ("schema", "database"):
                    message += f" (with storage.connection, set storage.connection.{key})"
                raise ConfigError(shown, f"storage.{key}", message)
        if data.get("connection") is None:
            raise ConfigError(shown, "storage.connection", "missing")
        connection = parse_connection(data["connection"], shown, "storage.connection", base_dir)

    names = dict(DEFAULT_TABLE_NAMES)
    overridden = []
    for key, table in TABLE_NAME_KEYS.items():
        if key in data:
            name = required_str(data, key, shown, "storage")
            if not _TABLE_NAME_PATTERN.match(name):
                raise ConfigError(shown, f"storage.{key}", "must be 1 to 255 characters")
            names[table] = name
            overridden.append(name)
    if len(set(overridden)) != len(overridden):
        raise ConfigError(shown, "storage", "table-name overrides must be distinct")
    return StorageConfig(connection=connection, dbt_profile=dbt_ref, table_names=names)
