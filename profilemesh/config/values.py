"""Reading values out of a parsed config mapping: every check names the file and the key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from profilemesh.errors import ConfigError, unknown_key_message


def key_path(prefix: str, name: object) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def mapping(data: Any, shown: str, key: str, allowed: Iterable[str]) -> dict[str, Any]:
    """`data` as a mapping whose keys are all allowed; otherwise a ConfigError naming the key."""
    if not isinstance(data, dict):
        raise ConfigError(shown, key or None, "must be a mapping")
    allowed = set(allowed)
    for name in data:
        if name not in allowed:
            raise ConfigError(shown, key_path(key, name), unknown_key_message(name, allowed))
    return data


def optional_str(data: dict[str, Any], name: str, shown: str, prefix: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(shown, key_path(prefix, name), f"must be a string, not {type(value).__name__}")
    return str(value)


def required_str(data: dict[str, Any], name: str, shown: str, prefix: str) -> str:
    value = optional_str(data, name, shown, prefix)
    if not value:
        raise ConfigError(shown, key_path(prefix, name), "required")
    return value


def positive_int(data: dict[str, Any], name: str, default: int, shown: str, prefix: str) -> int:
    value = data.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(shown, key_path(prefix, name), "must be a whole number of at least 1")
    return value


def non_negative_number(data: dict[str, Any], name: str, default: float, shown: str, prefix: str) -> float:
    value = data.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ConfigError(shown, key_path(prefix, name), "must be a number of at least 0")
    return float(value)
