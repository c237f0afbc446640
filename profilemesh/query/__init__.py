"""The read side: `profilemesh query` over the query views (SQLAlchemy Core only, never dbt).

- `views`: the views' names and columns (the public contract, built by the dbt package);
- `reader`: which relations to read for the store's version (the views, or the storage tables of a
  store one version behind);
- `fallback`: the views' definitions in SQLAlchemy Core, for that N-1 store;
- `queries`: runs, drift, one run's metrics, one table's history: filters, stable order, pages;
- `formats`: table (tabulate), JSON, NDJSON and CSV output.
"""
