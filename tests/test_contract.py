"""The names Python and the dbt package share are defined once, in the package, and generated into
profilemesh/contract.py: a stale file fails here (like docs/cli-reference.md in test_docs.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from profilemesh import contract
from scripts import gen_contract


@pytest.fixture(scope="module")
def described() -> dict[str, Any]:
    """The package's own report (`dbt run-operation profilemesh_describe`), read once."""
    return gen_contract.describe()


def test_the_generated_contract_is_current(described: dict[str, Any]) -> None:
    assert gen_contract.CONTRACT.read_text(encoding="utf-8") == gen_contract.render(described), (
        "profilemesh/contract.py is stale: run `python scripts/gen_contract.py`"
    )
    # What the package reported is what Python reads.
    assert set(contract.VIEW_COLUMNS) == set(described["contract"]["views"])
    assert contract.STORAGE_COLUMNS["results"] == tuple(described["catalog"]["results"]["columns"])
    assert tuple(described["contract"]["severities"]) == contract.SEVERITIES


def test_the_check_can_fail(described: dict[str, Any]) -> None:
    """A view column, a severity or a default table name the package changes changes the rendered file."""
    for path, value in (
        (("views", "profilemesh_runs_v"), ["run_id"]),
        (("severities",), ["low", "high"]),
        (("default_table_names", "runs"), "runs_renamed"),
    ):
        changed = copy.deepcopy(described)
        node = changed["contract"]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        assert gen_contract.render(changed) != gen_contract.CONTRACT.read_text(encoding="utf-8"), path
