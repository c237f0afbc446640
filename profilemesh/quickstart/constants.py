"""What the CLI needs of the quickstart at start-up, without importing the demo (SQLAlchemy, DuckDB)."""

DEFAULT_DIR = "profilemesh-quickstart"
