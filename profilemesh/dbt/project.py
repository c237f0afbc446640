"""A user's dbt project as ProfileMesh reads it (`profilemesh profile --project-dir DIR --select ...`):
the models, seeds, snapshots and sources dbt selects, each resolved to its relation in the warehouse
and carrying its `profilemesh` meta.

Selection is dbt's own: `dbt ls` runs in-process (dbtRunner) with the user's `--select`, `--exclude`,
profile and target, so every selector dbt has (`tag:daily`, `source:shop+`, `path:models/marts`,
`config.meta...`, graph operators) means what it means to dbt. dbt parses the project as `dbt ls`
would from the command line: from its own saved parse in the project's target directory, again only
where files changed (partial parsing), so a current manifest costs little and a stale one is never
used. Like any dbt command it writes that parse into the project's target path (`target/`, or what
`DBT_TARGET_PATH` / the project set). Nothing connects to the warehouse."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profilemesh.config.dbt_meta import META_KEY, DbtNode
from profilemesh.dbt.session import QUIET_FLAGS, RUNNER_LOCK, speed_up_behavior_flags
from profilemesh.errors import UsageError, first_line

# The nodes that are relations in the warehouse (ephemeral models aside).
RESOURCE_TYPES = ("model", "seed", "snapshot", "source")
_KEYS = ("unique_id", "resource_type", "database", "schema", "alias", "identifier", "original_file_path")
_NESTED_KEYS = ("config.materialized", "config.meta", "meta")


@dataclass(frozen=True)
class DbtSelection:
    """A dbt project and which of its nodes to read, as dbt's own flags say it."""

    project_dir: Path
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    profiles_dir: Path | None = None  # default: dbt's ($DBT_PROFILES_DIR, ./profiles.yml, ~/.dbt)
    target: str | None = None  # the dbt target; default: the profile's

    def resolved_profiles_dir(self) -> Path:
        """Where dbt looks for profiles.yml, in dbt's order."""
        if self.profiles_dir is not None:
            return self.profiles_dir.expanduser()
        if os.environ.get("DBT_PROFILES_DIR"):
            return Path(os.environ["DBT_PROFILES_DIR"]).expanduser()
        if Path("profiles.yml").is_file():
            return Path.cwd()
        return Path.home() / ".dbt"


@dataclass(frozen=True)
class DbtProject:
    """The selected relations, and the nodes left out because dbt builds no relation for them."""

    profile: str  # the profile dbt_project.yml names
    nodes: tuple[DbtNode, ...]
    ephemeral: tuple[str, ...] = ()


def read_project(selection: DbtSelection, *, log: Callable[[str], None] | None = None) -> DbtProject:
    """The selected nodes (`dbt ls`); a project that does not parse, or a selector dbt refuses, is one
    UsageError line with dbt's own words. `log` receives dbt's log lines (--debug)."""
    project_file = selection.project_dir / "dbt_project.yml"
    if not project_file.is_file():
        raise UsageError(f"--project-dir {selection.project_dir}: no dbt_project.yml there")
    rows = _ls(selection, log)
    nodes, ephemeral = [], []
    for row in rows:
        if row.get("config.materialized") == "ephemeral":
            ephemeral.append(row["unique_id"])
            continue
        nodes.append(_node(row))
    return DbtProject(_profile_name(project_file), tuple(nodes), tuple(ephemeral))


def _ls(selection: DbtSelection, log: Callable[[str], None] | None) -> list[dict[str, Any]]:
    from dbt.cli.main import dbtRunner  # imported lazily: it is the slow part of start-up

    speed_up_behavior_flags()
    argv = [
        "ls",
        "--project-dir",
        str(selection.project_dir),
        "--profiles-dir",
        str(selection.resolved_profiles_dir()),
        *(["--target", selection.target] if selection.target else []),
        "--resource-types",
        *RESOURCE_TYPES,
        *(["--select", *selection.select] if selection.select else []),
        *(["--exclude", *selection.exclude] if selection.exclude else []),
        "--output",
        "json",
        "--output-keys",
        *_KEYS,
        *_NESTED_KEYS,
        *QUIET_FLAGS,
    ]
    errors: list[str] = []

    def on_event(event: Any) -> None:
        if event.info.level == "error":
            errors.append(event.info.msg)
        if log is not None:
            log(event.info.msg)

    with RUNNER_LOCK:
        result = dbtRunner(callbacks=[on_event]).invoke(argv)
    if not result.success:
        reason = result.exception if result.exception is not None else (errors[-1] if errors else "dbt ls failed")
        # dbt's error is a heading ("Compilation Error") over the reason: one line holds both.
        lines = [line.strip() for line in str(reason).splitlines() if line.strip()]
        raise UsageError(f"dbt project {selection.project_dir}: {first_line(': '.join(lines), limit=600)}")
    listed: list[str] = result.result if isinstance(result.result, list) else []
    return [json.loads(line) for line in listed]


def _node(row: dict[str, Any]) -> DbtNode:
    meta: Any = {}
    for source in (row.get("meta"), row.get("config.meta")):  # the node's meta, then its config's
        declared = source.get(META_KEY) if isinstance(source, dict) else None
        if isinstance(declared, dict) and isinstance(meta, dict):
            meta = {**meta, **declared}
        elif declared is not None:
            meta = declared  # not a mapping: the merge says so, naming the key
    is_source = row["resource_type"] == "source"
    return DbtNode(
        unique_id=row["unique_id"],
        resource_type=row["resource_type"],
        database=row.get("database"),
        schema=row["schema"],
        name=(row.get("identifier") if is_source else row.get("alias")) or row["unique_id"].rsplit(".", 1)[-1],
        path=row.get("original_file_path") or row["unique_id"],
        meta=meta,
    )


def _profile_name(project_file: Path) -> str:
    import yaml

    try:
        data = yaml.safe_load(project_file.read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{project_file}: cannot read ({first_line(str(exc))})") from exc
    profile = data.get("profile") if isinstance(data, dict) else None
    if not isinstance(profile, str) or not profile:
        raise UsageError(f"{project_file}: names no profile")
    return profile
