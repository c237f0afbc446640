"""The `profilemesh` command line: argument parsing and printing over the library API."""
