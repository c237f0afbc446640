"""The four logical views `profilemesh query` reads, whichever relations implement them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True)
class Relations:
    """Selectables with the views' column names: the views themselves, or their Core definitions."""

    runs: sa.FromClause
    drift: sa.FromClause
    history: sa.FromClause
    metrics: sa.FromClause
    distributions: sa.FromClause  # profilemesh_distributions_v (schema version 7)
