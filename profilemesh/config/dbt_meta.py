"""ProfileMesh settings declared in a dbt project: a model's, seed's, snapshot's or source table's
`meta: profilemesh: {...}` (under `config:`), read with the parsers profilemesh.yml's entries use, and
merged with profilemesh.yml.

The order, lowest first: ProfileMesh's defaults; profilemesh.yml's `profiling` top level (metrics,
columns, exclude_columns, sample); the profilemesh.yml entry that matches the relation
(`profiling.tables`, `drift_detection.tables`, `alerts.owners`); the node's `profilemesh` meta (which
dbt has already merged from dbt_project.yml's `+meta`, the properties YAML and `config()`). A key set
both in a profilemesh.yml entry and in the meta, to different values, is reported as a warning naming
the table and the key; the meta's value applies."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from profilemesh.config.drift_settings import DRIFT_RULE_KEYS, TableRules, table_rules
from profilemesh.config.freshness import parse_freshness
from profilemesh.config.model import Config
from profilemesh.config.read_scope import SCOPE_KEYS, ReadScope, read_scope
from profilemesh.config.settings import TableSelector, parse_metrics
from profilemesh.config.values import mapping
from profilemesh.errors import ConfigError

META_KEY = "profilemesh"
META_KEYS = ("enabled", "metrics", "owner", "drift", "freshness", *SCOPE_KEYS)


@dataclass(frozen=True)
class DbtNode:
    """A dbt node that is a relation in the warehouse, as dbt resolved it for the target."""

    unique_id: str  # model.shop.orders, source.shop.raw.orders, seed..., snapshot...
    resource_type: str
    database: str | None
    schema: str
    name: str  # the relation's name: the alias, or a source table's identifier
    path: str  # the file that declares it, for messages
    meta: Any = field(default_factory=dict)  # its `profilemesh` meta (validated by merge_dbt_nodes)

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class ProjectSettings:
    """profilemesh.yml with a dbt project's nodes merged in: `config.profiling.tables` are the enabled
    nodes (each with its dbt unique id); their drift rules and owners come first in drift_detection.tables
    and alerts.owners. `warnings`: one line per conflicting key, and per node left out."""

    config: Config
    warnings: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()  # unique ids whose meta says enabled: false


def merge_dbt_nodes(config: Config, nodes: Sequence[DbtNode]) -> ProjectSettings:
    selectors: list[TableSelector] = []
    rules: list[TableRules] = []
    owners: list[tuple[str, str]] = []
    warnings: list[str] = []
    disabled: list[str] = []
    for node in nodes:
        meta = mapping(node.meta, _shown(node), META_KEY, META_KEYS)
        enabled = meta.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(_shown(node), f"{META_KEY}.enabled", "must be true or false")
        if not enabled:
            disabled.append(node.unique_id)
            continue
        conflicts = _Conflicts(node, warnings)
        selectors.append(_selector(config, node, meta, conflicts))
        if "drift" in meta:
            rules.append(_drift_rules(config, node, meta["drift"], conflicts))
        if "owner" in meta:
            owners.append((node.relation, _owner(config, node, meta["owner"], conflicts)))
    merged = dataclasses.replace(
        config,
        profiling=dataclasses.replace(config.profiling, tables=tuple(selectors)),
        drift=dataclasses.replace(config.drift, tables=(*rules, *config.drift.tables)),
        alerts=dataclasses.replace(config.alerts, owners=(*owners, *config.alerts.owners)),
    )
    return ProjectSettings(merged, tuple(warnings), tuple(disabled))


@dataclass
class _Conflicts:
    node: DbtNode
    lines: list[str]

    def check(self, key: str, configured: Any, declared: Any) -> None:
        if configured != declared:
            self.lines.append(
                f"warning: {self.node.relation} ({self.node.unique_id}): {key} is {_text(configured)} in "
                f"profilemesh.yml and {_text(declared)} in the dbt project; the dbt project's value applies"
            )


def _text(value: Any) -> str:
    if isinstance(value, tuple | list | frozenset):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _shown(node: DbtNode) -> str:
    return f"{node.path} ({node.unique_id}, meta)"


def _selector(config: Config, node: DbtNode, meta: dict[str, Any], conflicts: _Conflicts) -> TableSelector:
    entry = next((s for s in config.profiling.tables if s.matches(node.schema, node.name)), None)
    base: ReadScope = entry.scope if entry else config.profiling.scope
    scope = read_scope(meta, _shown(node), META_KEY, base)
    metrics = entry.metrics if entry else None
    if "metrics" in meta:
        metrics = parse_metrics(meta["metrics"], _shown(node), f"{META_KEY}.metrics")
    freshness = entry.freshness if entry else None
    if "freshness" in meta:
        freshness = parse_freshness(meta["freshness"], _shown(node), f"{META_KEY}.freshness")
    if entry is not None:
        for key in sorted(entry.explicit & set(meta)):
            if key == "metrics":
                conflicts.check(key, entry.metrics, metrics)
            elif key == "freshness":
                conflicts.check(key, entry.freshness, freshness)
            else:
                conflicts.check(key, getattr(entry.scope, key), getattr(scope, key))
    return TableSelector(
        schema=node.schema,
        table=node.name,
        scope=scope,
        metrics=metrics,
        freshness=freshness,
        dbt_unique_id=node.unique_id,
        explicit=frozenset(meta) | (entry.explicit if entry else frozenset()),
    )


def _drift_rules(config: Config, node: DbtNode, data: Any, conflicts: _Conflicts) -> TableRules:
    """The node's drift overrides (the keys of a drift_detection.tables entry), key by key over the
    profilemesh.yml entry that matches the table."""
    shown, key = _shown(node), f"{META_KEY}.drift"
    mapping(data, shown, key, DRIFT_RULE_KEYS)
    declared = table_rules({**data, "schema": node.schema, "table": node.name}, shown, key)
    configured = next((r for r in config.drift.tables if r.matches(node.schema, node.name)), None)
    if configured is None:
        return declared
    settings = dict(configured.settings)
    for option, value in declared.settings:
        if option in settings:
            conflicts.check(f"drift.{option}", settings[option], value)
        settings[option] = value
    default = configured.default
    if "ignore_metrics" in data or "direction" in data:
        if default != type(default)():
            conflicts.check("drift.ignore_metrics/direction", _rules_text(default), _rules_text(declared.default))
        default = declared.default
    columns = dict(configured.columns)
    for column, column_rules in declared.columns:
        if column in columns:
            conflicts.check(f"drift.columns.{column}", _rules_text(columns[column]), _rules_text(column_rules))
        columns[column] = column_rules
    return TableRules(node.schema, node.name, tuple(settings.items()), default, tuple(columns.items()))


def _rules_text(rules: Any) -> str:
    ignored = ", ".join(sorted(rules.ignore_metrics))
    return f"{{ignore_metrics: [{ignored}], direction: {rules.direction}" + (", ignore" if rules.ignore else "") + "}"


def _owner(config: Config, node: DbtNode, value: Any, conflicts: _Conflicts) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(_shown(node), f"{META_KEY}.owner", "must be a name (a team or a person)")
    configured = config.alerts.owner_of(node.schema, node.name)
    if configured is not None:
        conflicts.check("owner", configured, value.strip())
    return value.strip()
