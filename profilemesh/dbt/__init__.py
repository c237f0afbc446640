"""The dbt side: the shipped dbt package (package.py), and running its operations, models and tests
in-process through dbtRunner (session.py, workdir.py, parse_cache.py, outcomes.py). Nothing here imports
dbt-core until a session invokes it."""
