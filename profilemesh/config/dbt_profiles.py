"""Reading a connection out of an existing dbt profile (`storage.dbt_profile`).

The profile is rendered the way dbt renders it for `env_var()`, without importing dbt (so the fast
paths stay fast); the result is an ordinary ConnectionConfig, from which the CLI renders its own
private dbt profile. Keys ProfileMesh does not model pass through in `extra_params`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from profilemesh.config.connection import parse_connection
from profilemesh.config.model import DbtProfileRef
from profilemesh.errors import ConfigError
from profilemesh.warehouses import ConnectionConfig

_MODELLED = {
    "type",
    "host",
    "port",
    "user",
    "password",
    "pass",
    "dbname",
    "database",
    "schema",
    "path",
    "account",
    "warehouse",
    "role",
    "threads",
    "keep_open",
}


def dbt_profile_ref(
    *,
    profile: str | None,
    target: str | None,
    profiles_dir: str | None,
    project_dir: Path | None,
    schema: str | None,
    database: str | None,
    shown: str,
) -> DbtProfileRef:
    """`storage.dbt_profile` (or the profile a dbt project names, `storage.dbt_project_dir`) with where
    the store lives: `storage.schema` / `storage.database`, else the project's `profilemesh_schema` /
    `profilemesh_database` vars (what the package's models use), else the target's own."""
    project: dict[str, Any] = {}
    if project_dir is not None:
        path = project_dir / "dbt_project.yml"
        try:
            project = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(shown, "storage.dbt_project_dir", f"cannot read {path} ({exc})") from exc
        if not isinstance(project, dict):
            raise ConfigError(shown, "storage.dbt_project_dir", f"{path} is not a dbt project file")
    name = profile or project.get("profile")
    if not isinstance(name, str) or not name:
        raise ConfigError(shown, "storage.dbt_profile", "missing (and the dbt project names no profile)")
    variables = _project_vars(project)
    return DbtProfileRef(
        profile=name,
        target=target,
        profiles_dir=profiles_dir,
        schema=schema or _text(variables.get("profilemesh_schema")),
        database=database or _text(variables.get("profilemesh_database")),
    )


def _project_vars(project: dict[str, Any]) -> dict[str, Any]:
    """The project's vars for this package: top-level ones, then those scoped to `profilemesh`."""
    raw = project.get("vars")
    if not isinstance(raw, dict):
        return {}
    scoped = raw.get("profilemesh")
    return {**{k: v for k, v in raw.items() if k != "profilemesh"}, **(scoped if isinstance(scoped, dict) else {})}


def _text(value: Any) -> str | None:
    """A var's literal value; a Jinja expression (rendered only by dbt) is not guessed at."""
    return value if isinstance(value, str) and value and "{{" not in value else None


def profiles_dir(ref: DbtProfileRef) -> Path:
    if ref.profiles_dir:
        return Path(ref.profiles_dir).expanduser()
    if os.environ.get("DBT_PROFILES_DIR"):
        return Path(os.environ["DBT_PROFILES_DIR"]).expanduser()
    return Path.home() / ".dbt"


def connection_from_dbt_profile(ref: DbtProfileRef, config_path: str | None) -> ConnectionConfig:
    path = profiles_dir(ref) / "profiles.yml"
    shown = str(path)
    if not path.is_file():
        raise ConfigError(config_path, "storage.profiles_dir", f"no profiles.yml at {shown}")
    try:
        profiles = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(shown, None, f"cannot read dbt profiles ({exc})") from exc
    profile = profiles.get(ref.profile) if isinstance(profiles, dict) else None
    if not isinstance(profile, dict):
        raise ConfigError(config_path, "storage.dbt_profile", f"profile '{ref.profile}' not found in {shown}")
    target_name = ref.target or profile.get("target")
    outputs = profile.get("outputs") or {}
    output = outputs.get(target_name) if isinstance(outputs, dict) else None
    if not isinstance(output, dict):
        raise ConfigError(
            config_path, "storage.dbt_target", f"target '{target_name}' not found in profile '{ref.profile}' ({shown})"
        )
    rendered = {
        key: _render(value, shown, f"{ref.profile}.outputs.{target_name}.{key}") for key, value in output.items()
    }
    data: dict[str, Any] = {
        "type": rendered.get("type"),
        "host": rendered.get("host"),
        "port": rendered.get("port"),
        "username": rendered.get("user"),
        "password": rendered.get("password", rendered.get("pass")),
        "database": rendered.get("dbname", rendered.get("database")),
        "schema": rendered.get("schema"),
        "filepath": rendered.get("path"),
        "account": rendered.get("account"),
        "warehouse": rendered.get("warehouse"),
        "role": rendered.get("role"),
        "extra_params": {k: v for k, v in rendered.items() if k not in _MODELLED},
    }
    if ref.schema:
        data["schema"] = ref.schema
    if ref.database:
        data["database"] = ref.database
    data = {k: v for k, v in data.items() if v is not None}
    return parse_connection(data, shown, f"{ref.profile}.outputs.{target_name}", path.parent)


def _render(value: Any, shown: str, key: str) -> Any:
    if not isinstance(value, str) or "{{" not in value:
        return value
    from jinja2 import StrictUndefined, TemplateError  # only a profile with templates pays for jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined)
    env.globals["env_var"] = _env_var(shown, key)
    try:
        text = env.from_string(value).render()
    except ConfigError:
        raise
    except TemplateError as exc:
        raise ConfigError(shown, key, f"cannot render ({exc})") from exc
    # dbt casts rendered numbers (ports) back; so do we.
    return int(text) if text.isdigit() else text


def _env_var(shown: str, key: str) -> Callable[[str, str | None], str]:
    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(shown, key, f"environment variable {name} is not set")

    return env_var
