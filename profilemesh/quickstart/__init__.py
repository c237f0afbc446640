"""`profilemesh quickstart`: a demo warehouse, 14 simulated days profiled and checked for drift, on
embedded DuckDB. `warehouse` makes the data; `demo` drives the library APIs over it.

`demo` is imported on first use, not here: the CLI reads DEFAULT_DIR when it starts, and importing
the demo (SQLAlchemy, DuckDB, the profiler) would add about half a second to every command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

DEFAULT_DIR = "profilemesh-quickstart"

if TYPE_CHECKING:
    from profilemesh.quickstart.demo import QuickstartResult, run

__all__ = ["DEFAULT_DIR", "QuickstartResult", "run"]


def __getattr__(name: str) -> Any:
    if name in ("QuickstartResult", "run"):
        from profilemesh.quickstart import demo

        return getattr(demo, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
