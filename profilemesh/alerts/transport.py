"""Sending one message to one destination: HTTP (requests) for webhooks, Slack and Teams, SMTP (smtplib,
STARTTLS) for email. A send is tried up to `retry.attempts` times with exponential backoff; a
rate limit (HTTP 429) waits for its Retry-After. What cannot succeed by trying again (a 4xx other than
429, a refused login, an untrusted certificate) is not retried."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from profilemesh.alerts.messages import AlertMessage, json_bytes
from profilemesh.config.alerts import SLACK_API_URL, Destination, RetrySettings
from profilemesh.errors import first_line

if TYPE_CHECKING:
    import requests

SIGNATURE_HEADER = "X-ProfileMesh-Signature"
TIMESTAMP_HEADER = "X-ProfileMesh-Timestamp"
MESSAGE_ID_HEADER = "X-ProfileMesh-Message-Id"
USER_AGENT = "profilemesh-alerts"


class SendError(Exception):
    """A send failed. `retry`: trying again may succeed; `wait`: seconds the receiver asked for."""

    def __init__(self, message: str, *, retry: bool, wait: float | None = None):
        super().__init__(message)
        self.retry = retry
        self.wait = wait


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    tries: int
    error: str | None = None


def send_with_retries(
    send: Callable[[], None], retry: RetrySettings, sleep: Callable[[float], None] = time.sleep
) -> SendOutcome:
    """`send` until it succeeds, fails for good, or has been tried `retry.attempts` times."""
    delay = retry.backoff_seconds
    for attempt in range(1, retry.attempts + 1):
        try:
            send()
            return SendOutcome(ok=True, tries=attempt)
        except SendError as exc:
            error = str(exc)
            if not exc.retry or attempt == retry.attempts:
                return SendOutcome(ok=False, tries=attempt, error=error)
            wait = min(delay, retry.max_backoff_seconds)
            if exc.wait is not None:
                if exc.wait > retry.max_backoff_seconds:  # honoured by not sending sooner: the next run retries
                    return SendOutcome(ok=False, tries=attempt, error=f"{error}; not retried before then")
                wait = exc.wait
            sleep(wait)
            delay *= 2
    raise AssertionError("unreachable: retry.attempts is at least 1")


def sender(
    destination: Destination, message: AlertMessage, secrets: dict[str, str], timeout: float, now: dt.datetime
) -> Callable[[], None]:
    """The function that sends `message` once to `destination` (secrets already resolved)."""
    if destination.type == "email":
        return lambda: _send_email(destination, message, secrets.get("password"), timeout)
    url, body, headers = _http_request(destination, message, secrets, now)
    check = _slack_api_result if destination.type == "slack" and "token" in secrets else None
    return lambda: _post(url, body, headers, timeout, check)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The generic webhook's signature: HMAC-SHA256 of `timestamp.body` keyed by the secret, hex."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _http_request(
    destination: Destination, message: AlertMessage, secrets: dict[str, str], now: dt.datetime
) -> tuple[str, bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, MESSAGE_ID_HEADER: message.message_id}
    if destination.type == "webhook":
        body = json_bytes(message.webhook_body(now))
        if "secret" in secrets:
            timestamp = str(int(now.replace(tzinfo=dt.UTC).timestamp()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(secrets["secret"], timestamp, body)
        return secrets["url"], body, headers
    if destination.type == "slack":
        if "token" in secrets:
            headers["Authorization"] = f"Bearer {secrets['token']}"
            headers["Content-Type"] = "application/json; charset=utf-8"
            url = str(destination.options.get("api_url") or SLACK_API_URL)
            return url, json_bytes(message.slack_body(str(destination.options["channel"]))), headers
        return secrets["url"], json_bytes(message.slack_body()), headers
    return secrets["url"], json_bytes(message.teams_body()), headers  # teams


def _post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    check: Callable[[requests.Response], None] | None,
) -> None:
    import requests

    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout as exc:
        raise SendError(f"no answer within {timeout:g} s", retry=True) from exc
    except requests.RequestException as exc:
        raise SendError(f"cannot reach the destination: {_reason(exc)}", retry=True) from exc
    status = response.status_code
    if status == 429:
        wait = _retry_after(response.headers.get("Retry-After"))
        shown = f" (Retry-After {wait:g} s)" if wait is not None else ""
        raise SendError(f"HTTP 429 rate limited{shown}", retry=True, wait=wait)
    if status >= 500:
        raise SendError(f"HTTP {status} {response.reason or ''}".strip() + _excerpt(response), retry=True)
    if status >= 300:
        raise SendError(f"HTTP {status} {response.reason or ''}".strip() + _excerpt(response), retry=False)
    if check is not None:
        check(response)


def _slack_api_result(response: requests.Response) -> None:
    """Slack's Web API answers 200 with {"ok": false, "error": ...} on failure."""
    try:
        result: Any = response.json()
    except ValueError as exc:
        raise SendError("Slack answered with something other than JSON", retry=True) from exc
    if not isinstance(result, dict) or result.get("ok") is not True:
        error = str(result.get("error") if isinstance(result, dict) else result)
        raise SendError(f"Slack refused the message: {error}", retry=error == "ratelimited")


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _excerpt(response: requests.Response) -> str:
    text = first_line(response.text or "", limit=200)
    return f": {text}" if text else ""


def _reason(exc: BaseException) -> str:
    inner: BaseException = exc
    for _ in range(10):  # the innermost cause (urllib3's, the socket's) says what happened
        if inner.__context__ is None:
            break
        inner = inner.__context__
    return first_line(str(inner) or type(inner).__name__, limit=300)


def _send_email(destination: Destination, message: AlertMessage, password: str | None, timeout: float) -> None:
    options = destination.options
    host, port = str(options["host"]), int(options["port"])
    mail = message.email(str(options["from"]), tuple(options["to"]))
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.ehlo()
            if options["starttls"]:
                context = ssl.create_default_context(cafile=options.get("ca_file"))
                smtp.starttls(context=context)
                smtp.ehlo()
            if options.get("username"):
                smtp.login(str(options["username"]), password or "")
            # A recipient refused while others took the message is not retried: the others would get it twice.
            smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"SMTP login refused: {exc.smtp_code} {_smtp_text(exc.smtp_error)}", retry=False) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(f"SMTP server does not support it: {first_line(str(exc))}", retry=False) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"SMTP refused every recipient: {', '.join(exc.recipients)}", retry=False) from exc
    except smtplib.SMTPResponseException as exc:
        transient = 400 <= exc.smtp_code < 500
        raise SendError(f"SMTP {exc.smtp_code} {_smtp_text(exc.smtp_error)}", retry=transient) from exc
    except ssl.SSLError as exc:
        raise SendError(f"SMTP STARTTLS failed: {first_line(str(exc))}", retry=False) from exc
    except TimeoutError as exc:
        raise SendError(f"SMTP server did not answer within {timeout:g} s", retry=True) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"cannot reach the SMTP server {host}:{port}: {first_line(str(exc))}", retry=True) from exc


def _smtp_text(error: bytes | str) -> str:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return first_line(text, limit=300)
