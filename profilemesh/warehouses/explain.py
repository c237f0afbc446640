"""EXPLAIN as a SQLAlchemy statement (the SQLAlchemy recipe): the explained statement compiled by the
dialect, its values bound, so a plan can be asked for without running it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable


class Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement: sa.Select[Any], prefix: str) -> None:
        self.statement = statement
        self.prefix = prefix  # a constant of the caller's, e.g. "EXPLAIN (FORMAT JSON)"


@compiles(Explain)
def _compile_explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return f"{element.prefix} {compiler.process(element.statement, **kw)}"
