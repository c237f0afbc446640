"""Retention: delete old runs with their results and events, by one policy.

The policy (which rows go) is defined once, in the dbt package (`macros/retention/policy.sql`); this
module runs its `profilemesh_retention` operation through dbtRunner and reads the operation's result.
A scheduler that only runs dbt gets the same behaviour from `dbt run-operation profilemesh_retention`.
See docs/guides/DATA_RETENTION.md.
"""

from __future__ import annotations

from profilemesh.retention.operation import RetentionPolicy, RetentionReport, run_retention

__all__ = ["RetentionPolicy", "RetentionReport", "run_retention"]
