"""The `alerts` section of profilemesh.yml: where drift alerts go (`profilemesh alert`), validated
strictly like the other sections (an unknown key or a wrong type is one line naming the key, exit 2).

Secrets never need to be written into the file: any string may be `${VAR}` (substituted when the file
is loaded, like a password in `storage.connection`), and each secret key X also has an `X_env` form
naming an environment variable that is read only when an alert is sent, so the other commands run
without it. A destination gives X or X_env, not both.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any

from profilemesh.config.values import key_path, mapping, non_negative_number, optional_str, positive_int
from profilemesh.contract import SEVERITIES
from profilemesh.errors import ConfigError

DESTINATION_TYPES = ("webhook", "slack", "teams", "email")
SLACK_API_URL = "https://slack.com/api/chat.postMessage"
# The secret keys (X, or X_env) of each destination type, and which of them are required.
_SECRETS: dict[str, tuple[str, ...]] = {
    "webhook": ("url", "secret"),
    "slack": ("url", "token"),
    "teams": ("url",),
    "email": ("password",),
}
_PLAIN: dict[str, tuple[str, ...]] = {
    "webhook": (),
    "slack": ("channel", "api_url"),
    "teams": (),
    "email": ("host", "port", "starttls", "username", "from", "to", "ca_file"),
}
_COMMON = ("type", "tables", "min_severity", "owners", "digest")
_ALERT_KEYS = ("destinations", "owners", "suppress_hours", "lookback_days", "timeout_seconds", "retry")
_RETRY_KEYS = ("attempts", "backoff_seconds", "max_backoff_seconds")


@dataclass(frozen=True)
class Secret:
    """A secret given in the file (`value`) or by the name of an environment variable (`env`)."""

    key: str  # the config key, for messages: alerts.destinations.ops.url_env
    value: str | None = None
    env: str | None = None

    def resolve(self, shown: str | None, environ: dict[str, str] | None = None) -> str:
        """The secret's value; an environment variable that is not set is a config error (exit 2)."""
        if self.value is not None:
            return self.value
        assert self.env is not None
        found = (os.environ if environ is None else environ).get(self.env)
        if not found:
            raise ConfigError(shown, self.key, f"environment variable {self.env} is not set")
        return found


@dataclass(frozen=True)
class Destination:
    name: str
    type: str  # DESTINATION_TYPES
    secrets: dict[str, Secret] = field(default_factory=dict)  # url, secret, token, password
    options: dict[str, Any] = field(default_factory=dict)  # channel, api_url, host, port, starttls, ...
    tables: tuple[str, ...] = ()  # globs on `schema.table` (or `table`); empty: every table
    min_severity: str = "low"
    owners: tuple[str, ...] = ()  # empty: every owner (and tables with none)
    digest: bool = False  # one message per `alert` run instead of one per table and run

    def wants(self, schema: str | None, table: str, severity: str, owner: str | None) -> bool:
        """Whether an event of this table and severity is routed here."""
        if SEVERITIES.index(severity) < SEVERITIES.index(self.min_severity):
            return False
        if self.owners and owner not in self.owners:
            return False
        return not self.tables or any(table_matches(pattern, schema, table) for pattern in self.tables)


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 3  # sends per message and run, the first included
    backoff_seconds: float = 2.0  # doubled after each failure, up to max_backoff_seconds
    max_backoff_seconds: float = 60.0


@dataclass(frozen=True)
class AlertSettings:
    destinations: tuple[Destination, ...] = ()
    owners: tuple[tuple[str, str], ...] = ()  # (table glob, owner), first match wins
    suppress_hours: float = 24.0
    lookback_days: int = 7
    timeout_seconds: float = 10.0
    retry: RetrySettings = field(default_factory=RetrySettings)

    def owner_of(self, schema: str | None, table: str) -> str | None:
        return next((owner for pattern, owner in self.owners if table_matches(pattern, schema, table)), None)


def table_matches(pattern: str, schema: str | None, table: str) -> bool:
    """A glob with a dot matches `schema.table`; one without matches the table name in any schema."""
    if "." in pattern:
        return fnmatch.fnmatchcase(f"{schema or ''}.{table}", pattern)
    return fnmatch.fnmatchcase(table, pattern)


def parse_alerts(data: Any, shown: str) -> AlertSettings:
    if data is None:
        return AlertSettings()
    prefix = "alerts"
    mapping(data, shown, prefix, _ALERT_KEYS)
    retry_data = data.get("retry") or {}
    mapping(retry_data, shown, f"{prefix}.retry", _RETRY_KEYS)
    retry = RetrySettings(
        attempts=positive_int(retry_data, "attempts", RetrySettings.attempts, shown, f"{prefix}.retry"),
        backoff_seconds=non_negative_number(
            retry_data, "backoff_seconds", RetrySettings.backoff_seconds, shown, f"{prefix}.retry"
        ),
        max_backoff_seconds=non_negative_number(
            retry_data, "max_backoff_seconds", RetrySettings.max_backoff_seconds, shown, f"{prefix}.retry"
        ),
    )
    timeout = non_negative_number(data, "timeout_seconds", AlertSettings.timeout_seconds, shown, prefix)
    if timeout == 0:
        raise ConfigError(shown, f"{prefix}.timeout_seconds", "must be more than 0")
    owners_data = data.get("owners") or {}
    if not isinstance(owners_data, dict):
        raise ConfigError(shown, f"{prefix}.owners", "must be a mapping of table glob to owner")
    owners = tuple(
        (str(glob), _text(owner, shown, key_path(f"{prefix}.owners", glob))) for glob, owner in owners_data.items()
    )
    destinations_data = data.get("destinations")
    if not destinations_data:
        raise ConfigError(shown, f"{prefix}.destinations", "required: name at least one destination")
    if not isinstance(destinations_data, dict):
        raise ConfigError(shown, f"{prefix}.destinations", "must be a mapping of name to destination")
    return AlertSettings(
        destinations=tuple(
            _destination(str(name), value, shown, key_path(f"{prefix}.destinations", name))
            for name, value in destinations_data.items()
        ),
        owners=owners,
        suppress_hours=non_negative_number(data, "suppress_hours", AlertSettings.suppress_hours, shown, prefix),
        lookback_days=positive_int(data, "lookback_days", AlertSettings.lookback_days, shown, prefix),
        timeout_seconds=timeout,
        retry=retry,
    )


def _destination(name: str, data: Any, shown: str, prefix: str) -> Destination:
    if not isinstance(data, dict):
        raise ConfigError(shown, prefix, "must be a mapping")
    kind = data.get("type")
    if kind not in DESTINATION_TYPES:
        raise ConfigError(shown, f"{prefix}.type", f"must be one of {', '.join(DESTINATION_TYPES)}")
    secret_keys = _SECRETS[kind]
    allowed = (*_COMMON, *_PLAIN[kind], *secret_keys, *(f"{k}_env" for k in secret_keys))
    mapping(data, shown, prefix, allowed)
    secrets: dict[str, Secret] = {}
    for key in secret_keys:
        value = optional_str(data, key, shown, prefix)
        env = optional_str(data, f"{key}_env", shown, prefix)
        if value is not None and env is not None:
            raise ConfigError(shown, f"{prefix}.{key}", f"give {key} or {key}_env, not both")
        if value is not None:
            secrets[key] = Secret(f"{prefix}.{key}", value=value)
        elif env is not None:
            secrets[key] = Secret(f"{prefix}.{key}_env", env=env)
    options = {k: data[k] for k in _PLAIN[kind] if k in data}
    _check_destination(kind, secrets, options, shown, prefix)
    severity = data.get("min_severity", "low")
    if severity not in SEVERITIES[1:]:
        raise ConfigError(shown, f"{prefix}.min_severity", f"must be one of {', '.join(SEVERITIES[1:])}")
    digest = data.get("digest", False)
    if not isinstance(digest, bool):
        raise ConfigError(shown, f"{prefix}.digest", "must be true or false")
    return Destination(
        name=name,
        type=kind,
        secrets=secrets,
        options=options,
        tables=_texts(data.get("tables"), shown, f"{prefix}.tables"),
        min_severity=severity,
        owners=_texts(data.get("owners"), shown, f"{prefix}.owners"),
        digest=digest,
    )


def _check_destination(kind: str, secrets: dict[str, Secret], options: dict[str, Any], shown: str, prefix: str) -> None:
    if kind in ("webhook", "teams") and "url" not in secrets:
        raise ConfigError(shown, f"{prefix}.url", "required (or url_env)")
    if kind == "slack":
        if ("url" in secrets) == ("token" in secrets):
            raise ConfigError(shown, prefix, "give url (an incoming webhook) or token (a bot token), one of the two")
        if "token" in secrets and not options.get("channel"):
            raise ConfigError(shown, f"{prefix}.channel", "required with a bot token")
    if kind == "email":
        for key in ("host", "from", "to"):
            if not options.get(key):
                raise ConfigError(shown, f"{prefix}.{key}", "required")
        options["to"] = _texts(options["to"], shown, f"{prefix}.to")
        port = options.get("port", 587)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ConfigError(shown, f"{prefix}.port", "must be a port number")
        options["port"] = port
        starttls = options.get("starttls", True)
        if not isinstance(starttls, bool):
            raise ConfigError(shown, f"{prefix}.starttls", "must be true or false")
        options["starttls"] = starttls
        if "password" in secrets and not options.get("username"):
            raise ConfigError(shown, f"{prefix}.username", "required with a password")
    for key, value in options.items():
        if key not in ("to", "port", "starttls") and not isinstance(value, str):
            raise ConfigError(shown, f"{prefix}.{key}", f"must be a string, not {type(value).__name__}")


def _text(value: Any, shown: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(shown, key, "must be a non-empty string")
    return value


def _texts(value: Any, shown: str, key: str) -> tuple[str, ...]:
    """A string or a list of strings."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ConfigError(shown, key, "must be a string or a list of strings")
    return tuple(_text(item, shown, f"{key}[{i}]") for i, item in enumerate(items))
