"""dbt's traps that the session works around in-process: here, dbt-common naming each behavior flag's
source with inspect.stack() (the source of every frame read, for every flag of every adapter
registration: about a third of the time the suite's dbt operations took)."""

from __future__ import annotations

import inspect

import pytest
from dbt_common.behavior_flags import BehaviorFlagRendered

from profilemesh.api import migrate_validate
from profilemesh.dbt.session import speed_up_behavior_flags
from tests.support.stores import Store


def _flag() -> BehaviorFlagRendered:
    return BehaviorFlagRendered({"name": "some_flag", "default": False, "description": "a flag"}, {})


def test_flag_sources_are_named_without_reading_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    speed_up_behavior_flags()

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("inspect.stack() was called")

    monkeypatch.setattr(inspect, "stack", refused)
    # The same answer dbt-common's own lookup gives: the module that made the flag.
    assert _flag()._behavior_change_event.flag_source == __name__


def test_dbt_operations_run_with_the_cheap_lookup(duck_at_head: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("inspect.stack() was called")

    monkeypatch.setattr(inspect, "stack", refused)
    assert migrate_validate(duck_at_head.ctx).problems == []  # the adapter registered, its flags named
