"""`profilemesh quickstart`: a demo warehouse, 14 simulated days profiled and checked for drift, on
embedded DuckDB. `warehouse` makes the data; `demo` drives the library API (profilemesh.api) over it."""
