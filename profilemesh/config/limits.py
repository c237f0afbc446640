"""profiling.limits in profilemesh.yml: what a run may use of the machine that profiles (DuckDB's
memory and the directory it spills to) and the table size above which distinct counts are estimated
rather than counted exactly. Validated here; applied by profiling/bounds.py."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profilemesh.config.values import mapping
from profilemesh.errors import ConfigError

# The defaults (docs/configuration.md): half the machine's memory, DuckDB's spill files under the system
# temp directory, and exact distinct counts up to 100 million rows (estimated by the warehouse's planner).
DEFAULT_MEMORY = "50%"
DEFAULT_EXACT_DISTINCT_ROWS = 100_000_000
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)
_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Limits:
    """memory: a size DuckDB understands (`4GB`, `512MiB`) or a share of the machine's memory (`50%`).
    temp_directory: where DuckDB spills what does not fit (None: `profilemesh-spill` in the system temp
    directory). exact_distinct_rows: above this many rows read (the planner's estimate), a table's
    distinct counts are approximate; None never switches."""

    memory: str = DEFAULT_MEMORY
    temp_directory: Path | None = None
    exact_distinct_rows: int | None = DEFAULT_EXACT_DISTINCT_ROWS

    def memory_bytes(self) -> int:
        """The memory limit in bytes (a share of physical memory resolved on this machine)."""
        share = _SHARE.match(self.memory)
        if share:
            physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            return int(physical * float(share.group(1)) / 100)
        size = _SIZE.match(self.memory)
        assert size is not None  # validated by parse_limits
        unit = size.group(2).upper()
        power = "KMGT".index(unit[0]) + 1
        base = 1024 if unit.endswith("IB") else 1000
        return int(float(size.group(1)) * base**power)


DEFAULT_LIMITS = Limits()


def parse_limits(data: Any, shown: str, base_dir: Path) -> Limits:
    if data is None:
        return DEFAULT_LIMITS
    key = "profiling.limits"
    mapping(data, shown, key, {"memory", "temp_directory", "exact_distinct_rows"})
    memory = data.get("memory", DEFAULT_MEMORY)
    share = _SHARE.match(memory) if isinstance(memory, str) else None
    size = _SIZE.match(memory) if isinstance(memory, str) else None
    if not ((share and 0 < float(share.group(1)) <= 100) or (size and float(size.group(1)) > 0)):
        raise ConfigError(shown, f"{key}.memory", "must be a share of memory (`50%`) or a size (`4GB`, `512MiB`)")
    temp = data.get("temp_directory")
    if temp is not None and (not isinstance(temp, str) or not temp.strip()):
        raise ConfigError(shown, f"{key}.temp_directory", "must be a directory path")
    rows = data.get("exact_distinct_rows", DEFAULT_EXACT_DISTINCT_ROWS)
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 1):
        raise ConfigError(shown, f"{key}.exact_distinct_rows", "must be a whole number of rows, 1 or more, or null")
    return Limits(
        memory=memory.strip(),
        temp_directory=None if temp is None else (base_dir / Path(temp).expanduser()).resolve(),
        exact_distinct_rows=rows,
    )
