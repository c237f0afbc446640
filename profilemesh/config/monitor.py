"""The `monitor` section of profilemesh.yml: which schemas and tables a metadata pass (`profilemesh
monitor`) watches, by glob, and their freshness SLA.

    monitor:
      schemas: ['analytics_*']
      tables: ['*']                       # the default
      exclude: ['tmp_*', 'staging.raw_*'] # a table name, or schema.table
      freshness: {warn_after: 6h, error_after: 24h}
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from profilemesh.config.freshness import FreshnessSLA, parse_freshness
from profilemesh.config.settings import ProfilingSettings
from profilemesh.config.values import mapping
from profilemesh.errors import ConfigError


@dataclass(frozen=True)
class MonitorSettings:
    schemas: tuple[str, ...] = ()
    tables: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    freshness: FreshnessSLA | None = None

    def watches_schema(self, schema: str) -> bool:
        return any(fnmatch.fnmatchcase(schema.lower(), g.lower()) for g in self.schemas)

    def watches(self, schema: str, table: str) -> bool:
        """Whether a table in a matched schema is watched: its name matches a `tables` glob and no
        `exclude` glob (a glob with a dot is matched against schema.table). Globs ignore case, as
        catalog names are spelled in upper case on Snowflake and lower case elsewhere."""
        name, qualified = table.lower(), f"{schema}.{table}".lower()
        if not any(fnmatch.fnmatchcase(name, g.lower()) for g in self.tables):
            return False
        return not any(fnmatch.fnmatchcase(qualified if "." in g else name, g.lower()) for g in self.exclude)


def globs(value: Any, shown: str, key: str) -> tuple[str, ...]:
    """A glob or a list of them (non-empty strings)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(g, str) and g.strip() for g in value):
        raise ConfigError(shown, key, "must be a name or glob, or a list of them")
    return tuple(g.strip() for g in value)


def parse_monitor(data: Any, shown: str) -> MonitorSettings:
    if data is None:
        return MonitorSettings()
    mapping(data, shown, "monitor", {"schemas", "tables", "exclude", "freshness"})
    return MonitorSettings(
        schemas=globs(data["schemas"], shown, "monitor.schemas") if data.get("schemas") is not None else (),
        tables=globs(data["tables"], shown, "monitor.tables") if data.get("tables") is not None else ("*",),
        exclude=globs(data["exclude"], shown, "monitor.exclude") if data.get("exclude") is not None else (),
        freshness=parse_freshness(data.get("freshness"), shown, "monitor.freshness"),
    )


def freshness_sla(
    profiling: ProfilingSettings, monitor: MonitorSettings, schema: str | None, table: str, *, metadata_pass: bool
) -> FreshnessSLA | None:
    """A table's freshness SLA: its own profiling.tables entry's (the first entry matching it that sets
    one), else for a metadata pass the `monitor` section's, else the top of `profiling`."""
    for selector in profiling.tables:
        if selector.freshness is not None and selector.matches(schema, table):
            return selector.freshness
    if metadata_pass and monitor.freshness is not None:
        return monitor.freshness
    return profiling.freshness
