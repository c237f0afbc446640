"""`profilemesh quickstart`: a demo warehouse, 14 simulated days profiled and checked for drift, on
embedded DuckDB. `warehouse` makes the data; `demo` drives the library APIs over it."""

from profilemesh.quickstart.demo import DEFAULT_DIR, QuickstartResult, run

__all__ = ["DEFAULT_DIR", "QuickstartResult", "run"]
