"""`profilemesh alert` against real servers on loopback: an HTTP server that records requests (and fails,
times out or rate-limits on cue) and an SMTP server (aiosmtpd, with STARTTLS on a self-signed
certificate). Each drift event reaches each destination once, in one message per table and run; the
delivery record in the store says where it went; failures are retried and never marked sent; a crash
between sending and recording re-sends once and loses nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from profilemesh.api import Context, alert
from profilemesh.errors import ConfigError, UsageError
from profilemesh.store import writes
from profilemesh.store.connect import connect
from profilemesh.store.locks.base import LOCK_TTL_ENV
from tests.support.alert_servers import (
    RecordingHTTPServer,
    Reply,
    self_signed_cert,
    server_tls_context,
    smtp_server,
)
from tests.support.cli import QuickstartRun, run_cli, spawn_cli
from tests.support.launcher import CliProcess
from tests.support.snowflake_emulator import wait_for
from tests.support.stores import Store

FAST_RETRY = {"attempts": 3, "backoff_seconds": 0.01, "max_backoff_seconds": 2}
DAY = dt.datetime(2026, 11, 30, 6, 0)


def add_event(
    store: Store,
    *,
    run_id: str,
    table: str,
    column: str | None,
    metric: str = "mean",
    severity: str = "high",
    schema: str = "shop",
    at: dt.datetime = DAY,
    baseline: float = 100.0,
    current: float = 180.0,
) -> str:
    event_id = str(uuid.uuid4())
    row = {
        "event_id": event_id,
        "event_type": "DataDriftDetected",
        "run_id": run_id,
        "schema_name": schema,
        "table_name": table,
        "column_name": column,
        "metric_name": metric,
        "baseline_value": baseline,
        "current_value": current,
        "change_percent": (current - baseline) / baseline * 100,
        "drift_severity": severity,
        "timestamp": at,
        "metadata": '{"state": "new"}',
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
    }
    target = store.target
    with connect(target, read_only=False) as conn:
        conn.execute(sa.text("SELECT 1"))  # begins the transaction (PostgreSQL's COPY goes to the raw connection)
        writes.insert(conn, target, "events", [row])
        conn.commit()
    return event_id


def configure(store: Store, alerts: dict[str, Any]) -> Context:
    data = yaml.safe_load(store.config_path.read_text())
    data["alerts"] = {"retry": FAST_RETRY, "timeout_seconds": 2, **alerts}
    store.config_path.write_text(yaml.safe_dump(data))
    return store.ctx


def deliveries(store: Store) -> list[tuple[Any, ...]]:
    return store.sql(
        f"SELECT event_id, destination, status, attempts, last_error, sent_at, message_id "
        f"FROM {store.qualified('profilemesh_alert_deliveries')} ORDER BY destination, event_id"
    )


def two_tables(store: Store) -> list[str]:
    """One run that drifted in two tables: three metrics of orders, one of customers."""
    return [
        add_event(store, run_id="run-1", table="orders", column="amount", metric="mean"),
        add_event(store, run_id="run-1", table="orders", column="amount", metric="stddev", severity="medium"),
        add_event(store, run_id="run-1", table="orders", column=None, metric="row_count", severity="low"),
        add_event(store, run_id="run-1", table="customers", column="email", metric="null_percent"),
    ]


def test_each_event_reaches_every_destination_once_per_table(store_at_head: Store) -> None:
    events = two_tables(store_at_head)
    with (
        RecordingHTTPServer() as hook,
        RecordingHTTPServer() as slack,
        RecordingHTTPServer() as teams,
        smtp_server() as (smtp_port, mailbox),
    ):
        ctx = configure(
            store_at_head,
            {
                "destinations": {
                    "ops": {"type": "webhook", "url": hook.url + "/hook", "secret": "s3cret"},
                    "chat": {"type": "slack", "url": slack.url + "/services/T/B/X"},
                    "teams": {"type": "teams", "url": teams.url + "/workflow"},
                    "mail": {
                        "type": "email", "host": "127.0.0.1", "port": smtp_port, "starttls": False,
                        "from": "profilemesh@example.com", "to": ["data@example.com"],
                    },
                }
            },
        )  # fmt: skip
        report = alert(ctx)
        assert report.exit_code == 0 and report.sent == 16 and report.failed == 0
        # One message per table and run, never one per metric.
        assert len(hook.requests) == len(slack.requests) == len(teams.requests) == len(mailbox.messages) == 2

        bodies = {r.json()["groups"][0]["table"]: r for r in hook.requests}
        orders = bodies["orders"].json()
        assert orders["payload_version"] == 1 and orders["kind"] == "profilemesh.drift"
        assert orders["severity"] == "high" and orders["groups"][0]["run_id"] == "run-1"
        assert {e["metric"] for e in orders["groups"][0]["events"]} == {"mean", "stddev", "row_count"}
        mean = next(e for e in orders["groups"][0]["events"] if e["metric"] == "mean")
        assert (mean["baseline"], mean["current"], mean["severity"]) == (100.0, 180.0, "high")
        assert orders["groups"][0]["look_deeper"] == "profilemesh query drift --table shop.orders"
        # The HMAC signature verifies as docs/guides/alerts.md says.
        request = bodies["orders"]
        signed = request.headers["X-ProfileMesh-Timestamp"].encode() + b"." + request.body
        expected = "sha256=" + hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["X-ProfileMesh-Signature"], expected)
        assert request.headers["X-ProfileMesh-Message-Id"] == orders["message_id"]

        assert "shop.orders" in slack.requests[0].json()["text"] + slack.requests[1].json()["text"]
        card = teams.requests[0].json()["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        subjects = sorted(m["Subject"] for m in mailbox.messages)
        assert subjects == [
            "ProfileMesh [HIGH] drift in shop.customers: 1 change",
            "ProfileMesh [HIGH] drift in shop.orders: 3 changes",
        ]
        body = next(m for m in mailbox.messages if "orders" in m["Subject"]).get_payload()
        assert "amount: mean 100 -> 180 (+80.0%) [high, new]" in body

        rows = deliveries(store_at_head)
        assert len(rows) == 16 and {r[2] for r in rows} == {"sent"} and {r[3] for r in rows} == {1}
        assert {r[0] for r in rows} == set(events) and all(r[5] is not None for r in rows)

        # A second run sends nothing.
        again = alert(store_at_head.ctx)
        assert again.sent == 0 and again.deliveries == []
        assert len(hook.requests) == len(slack.requests) == len(teams.requests) == len(mailbox.messages) == 2


def test_a_failing_destination_is_retried_and_never_marked_sent(duck_at_head: Store) -> None:
    event = add_event(duck_at_head, run_id="run-1", table="orders", column="amount")
    with RecordingHTTPServer(default=Reply(500, body="boom")) as hook:
        configure(duck_at_head, {"destinations": {"ops": {"type": "webhook", "url": hook.url}}})
        result = run_cli("alert", "-c", str(duck_at_head.config_path))
        assert result.exit_code == 3, result.stderr
        assert "failed" in result.stdout and "HTTP 500" in result.stdout
        assert len(hook.requests) == FAST_RETRY["attempts"]
        [(event_id, _, status, attempts, error, sent_at, _)] = deliveries(duck_at_head)
        assert (event_id, status, attempts, sent_at) == (event, "failed", 3, None)
        assert error.startswith("HTTP 500")

        hook.default = Reply(200)  # the destination is back: the next run delivers
        report = alert(duck_at_head.ctx)
        assert report.sent == 1 and len(hook.requests) == 4
        [(_, _, status, attempts, _, sent_at, _)] = deliveries(duck_at_head)
        assert (status, attempts) == ("sent", 4) and sent_at is not None


def test_rate_limit_honours_retry_after_and_a_timeout_is_retried(duck_at_head: Store) -> None:
    add_event(duck_at_head, run_id="run-1", table="orders", column="amount")
    replies = [Reply(429, headers={"Retry-After": "1"}), Reply(200, delay=1.5), Reply(200)]
    with RecordingHTTPServer(replies) as hook:
        ctx = configure(
            duck_at_head, {"timeout_seconds": 0.5, "destinations": {"ops": {"type": "webhook", "url": hook.url}}}
        )
        report = alert(ctx)
        assert report.sent == 1 and report.deliveries[0].tries == 3
        first, second, third = hook.requests
        assert second.at - first.at >= 1.0  # Retry-After: 1 was waited for
        assert third.at - second.at < 1.5  # the slow answer was not waited for past the timeout
        assert first.headers["X-ProfileMesh-Message-Id"] == third.headers["X-ProfileMesh-Message-Id"]


def test_retry_after_beyond_the_limit_fails_now_and_leaves_it_to_the_next_run(duck_at_head: Store) -> None:
    add_event(duck_at_head, run_id="run-1", table="orders", column="amount")
    with RecordingHTTPServer([Reply(429, headers={"Retry-After": "3600"})]) as hook:
        ctx = configure(duck_at_head, {"destinations": {"ops": {"type": "webhook", "url": hook.url}}})
        report = alert(ctx, sleep=lambda s: pytest.fail(f"slept {s} s"))
        assert report.failed == 1 and len(hook.requests) == 1
        assert "Retry-After 3600 s" in (report.deliveries[0].error or "")
        assert alert(duck_at_head.ctx).sent == 1 and len(hook.requests) == 2


def test_a_crash_between_sending_and_recording_resends_once(duck_at_head: Store) -> None:
    """SIGKILL after the send, before `sent` is committed: the record says `attempting`, and the next
    run sends the message again (the same message id) and records it; the run after sends nothing."""
    add_event(duck_at_head, run_id="run-1", table="orders", column="amount")
    with RecordingHTTPServer() as hook:
        configure(duck_at_head, {"destinations": {"ops": {"type": "webhook", "url": hook.url}}})
        env = {"PROFILEMESH_TEST_CRASH_AT": "alerts:before_commit"}
        process = spawn_cli("alert", "-c", str(duck_at_head.config_path), env=env)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, stderr
        assert len(hook.requests) == 1
        [(_, _, status, _, _, sent_at, _)] = deliveries(duck_at_head)
        assert (status, sent_at) == ("attempting", None)

        assert alert(duck_at_head.ctx).sent == 1
        assert len(hook.requests) == 2
        assert (
            hook.requests[0].headers["X-ProfileMesh-Message-Id"] == hook.requests[1].headers["X-ProfileMesh-Message-Id"]
        )
        [(_, _, status, attempts, _, _, _)] = deliveries(duck_at_head)
        assert (status, attempts) == ("sent", 1)
        assert alert(duck_at_head.ctx).deliveries == [] and len(hook.requests) == 2


def _sending(store: Store, hook: RecordingHTTPServer, env: dict[str, str] | None = None) -> CliProcess:
    """`profilemesh alert` in another process, returned once its first message has reached the hook (so it
    holds the store's alert lock and has recorded that message as `attempting`)."""
    process = spawn_cli("alert", "-c", str(store.config_path), "--format", "json", env=env)
    assert wait_for(lambda: bool(hook.requests) or process.poll() is not None, timeout=120)
    assert process.poll() is None, process.communicate()[1]
    return process


def test_a_second_alert_run_waits_for_the_first_and_sends_nothing_twice(store_at_head: Store) -> None:
    """Two `alert` runs at once on one store (a schedule's and a person's). Without a lock the second
    would read the first's `attempting` record as a crash and send that message again, and the unsent
    one too. PostgreSQL: the second waits for the first's advisory lock (--lock-timeout; a short one ends
    in store busy, exit 3, naming the holder), then finds everything recorded and sends nothing. DuckDB:
    the first run holds the file, so the second stops at once with store busy (exit 3). Each event is
    delivered once either way."""
    events = two_tables(store_at_head)  # two tables: two messages
    config = str(store_at_head.config_path)
    with RecordingHTTPServer(default=Reply(delay=4.0)) as hook:  # each message takes 4 s
        configure(store_at_head, {"timeout_seconds": 10, "destinations": {"ops": {"type": "webhook", "url": hook.url}}})
        first = _sending(store_at_head, hook)
        impatient = run_cli("alert", "-c", config, "--lock-timeout", "0.2")
        assert impatient.exit_code == 3 and impatient.stderr.count("\n") == 1, impatient.stderr
        assert "store busy" in impatient.stderr
        second = run_cli("alert", "-c", config, "--format", "json")
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert json.loads(out)["sent"] == len(events)
        if store_at_head.kind == "postgres":
            assert "another `alert` run holds the alert lock (pid " in impatient.stderr
            assert "profilemesh alert" in impatient.stderr and "waited 0.2 s" in impatient.stderr
            assert second.exit_code == 0, second.stderr
            assert json.loads(second.stdout) | {"deliveries": []} == {
                "dry_run": False, "sent": 0, "failed": 0, "suppressed": 0, "deliveries": [],
            }  # fmt: skip
        else:
            assert second.exit_code == 3 and "store busy" in second.stderr
    sent = [e["event_id"] for r in hook.requests for g in r.json()["groups"] for e in g["events"]]
    assert sorted(sent) == sorted(events) and len(hook.requests) == 2
    assert [(status, attempts) for _, _, status, attempts, *_ in deliveries(store_at_head)] == [("sent", 1)] * 4


def test_email_over_starttls_with_a_trusted_and_an_untrusted_certificate(duck_at_head: Store, tmp_path: Path) -> None:
    add_event(duck_at_head, run_id="run-1", table="orders", column="amount")
    cert, key = self_signed_cert(tmp_path)
    with smtp_server(server_tls_context(cert, key)) as (port, mailbox):
        mail = {
            "type": "email", "host": "127.0.0.1", "port": port, "from": "pm@example.com", "to": "data@example.com",
        }  # fmt: skip
        ctx = configure(duck_at_head, {"destinations": {"mail": mail}})
        untrusted = alert(ctx)  # the system's CAs do not know this certificate: refused, not retried
        assert untrusted.failed == 1 and untrusted.deliveries[0].tries == 1
        assert "STARTTLS failed" in (untrusted.deliveries[0].error or "") and mailbox.messages == []

        ctx = configure(duck_at_head, {"destinations": {"mail": {**mail, "ca_file": str(cert)}}})
        trusted = alert(ctx)
        assert trusted.sent == 1 and len(mailbox.messages) == 1 and mailbox.tls == [True]
        assert mailbox.envelopes[0].rcpt_tos == ["data@example.com"]


def test_routing_by_table_severity_and_owner_suppression_and_digest(duck_at_head: Store) -> None:
    day1 = add_event(duck_at_head, run_id="run-1", table="orders", column="amount", at=DAY)
    day1_low = add_event(duck_at_head, run_id="run-1", table="orders", column="qty", severity="low", at=DAY)
    # The same incident one run later (the threshold strategy writes a new event per run): suppressed.
    day2 = add_event(duck_at_head, run_id="run-2", table="orders", column="amount", at=DAY + dt.timedelta(hours=6))
    other = add_event(duck_at_head, run_id="run-1", table="customers", column="email", schema="crm", at=DAY)
    with RecordingHTTPServer() as payments, RecordingHTTPServer() as crm, RecordingHTTPServer() as digest:
        ctx = configure(
            duck_at_head,
            {
                "owners": {"shop.*": "payments", "crm.*": "crm-team"},
                "suppress_hours": 24,
                "destinations": {
                    "payments": {
                        "type": "webhook",
                        "url": payments.url,
                        "owners": ["payments"],
                        "min_severity": "medium",
                    },
                    "crm": {"type": "webhook", "url": crm.url, "tables": ["crm.cust*"]},
                    "digest": {"type": "webhook", "url": digest.url, "digest": True},
                },
            },
        )
        report = alert(ctx)
        assert len(payments.requests) == 1 and len(crm.requests) == 1 and len(digest.requests) == 1
        sent = [e["event_id"] for g in payments.requests[0].json()["groups"] for e in g["events"]]
        assert sent == [day1]  # low severity routed away; day2 suppressed
        assert crm.requests[0].json()["groups"][0]["owner"] == "crm-team"
        groups = digest.requests[0].json()["groups"]
        assert digest.requests[0].json()["digest"] is True and len(groups) == 2
        assert {e["event_id"] for g in groups for e in g["events"]} == {day1, day1_low, other}
        assert report.suppressed == 2  # day2, for payments and for the digest
        statuses = {(r[0], r[1]): r[2] for r in deliveries(duck_at_head)}
        assert statuses[(day2, "payments")] == statuses[(day2, "digest")] == "suppressed"
        assert (day1_low, "payments") not in statuses and (other, "payments") not in statuses
        assert alert(duck_at_head.ctx).deliveries == []


def test_slack_bot_token_posts_to_the_api_and_a_refusal_is_not_retried(duck_at_head: Store) -> None:
    add_event(duck_at_head, run_id="run-1", table="orders", column="amount")
    replies = [Reply(200, body='{"ok": false, "error": "channel_not_found"}'), Reply(200, body='{"ok": true}')]
    with RecordingHTTPServer(replies) as api:
        bot = {"type": "slack", "token_env": "PM_TEST_SLACK_TOKEN", "channel": "#data", "api_url": api.url + "/api"}
        configure(duck_at_head, {"destinations": {"bot": bot}})
        missing = run_cli("alert", "-c", str(duck_at_head.config_path))
        assert missing.exit_code == 2 and api.requests == []
        assert (
            "alerts.destinations.bot.token_env: environment variable PM_TEST_SLACK_TOKEN is not set" in missing.stderr
        )
        env = {"PM_TEST_SLACK_TOKEN": "xoxb-test"}
        refused = run_cli("alert", "-c", str(duck_at_head.config_path), env=env)
        assert refused.exit_code == 3 and len(api.requests) == 1
        assert "channel_not_found" in refused.stdout
        done = run_cli("alert", "-c", str(duck_at_head.config_path), env=env)
        assert done.exit_code == 0 and len(api.requests) == 2
        assert api.requests[1].headers["Authorization"] == "Bearer xoxb-test"
        assert api.requests[1].json()["channel"] == "#data"


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ({"destinations": {"x": {"type": "webhook", "url": "http://h", "colour": "red"}}},
         "alerts.destinations.x.colour: unknown key"),
        ({"destinations": {"x": {"type": "pager"}}}, "alerts.destinations.x.type: must be one of webhook, slack"),
        ({"destinations": {"x": {"type": "slack", "url": "http://h", "token": "t"}}}, "give url (an incoming webhook)"),
        ({"destinations": {"x": {"type": "webhook", "url": "http://h", "url_env": "U"}}}, "give url or url_env"),
        ({"destinations": {"x": {"type": "email", "host": "h", "to": "a@b"}}}, "alerts.destinations.x.from: required"),
        ({"destinations": {"x": {"type": "webhook", "url": "http://h", "min_severity": "none"}}}, "min_severity"),
        ({"destinations": {}}, "alerts.destinations: required"),
        ({"retry": {"attempts": 0}, "destinations": {"x": {"type": "teams", "url": "u"}}}, "alerts.retry.attempts"),
        ({"suppress": 1, "destinations": {"x": {"type": "teams", "url": "u"}}}, "alerts.suppress: unknown key"),
    ],
)  # fmt: skip
def test_alert_config_errors_are_one_line(duck_at_head: Store, alerts: dict[str, Any], message: str) -> None:
    data = yaml.safe_load(duck_at_head.config_path.read_text())
    data["alerts"] = alerts
    duck_at_head.config_path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as error:
        Context.load(duck_at_head.config_path)
    assert message in str(error.value) and "\n" not in str(error.value)
    result = run_cli("alert", "-c", str(duck_at_head.config_path))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


def test_alert_without_destinations_is_a_usage_error(duck_at_head: Store) -> None:
    with pytest.raises(UsageError, match="no alert destinations configured"):
        alert(duck_at_head.ctx)


def test_quickstart_drift_reaches_a_webhook_and_smtp_exactly_once(
    quickstart_run: QuickstartRun, tmp_path: Path
) -> None:
    """The issue's acceptance: the quickstart's drift, through the CLI, to a local webhook and a local
    SMTP server; a second `profilemesh alert` sends nothing."""
    assert quickstart_run.result.exit_code == 0, quickstart_run.result.stderr
    directory = tmp_path / "demo"
    shutil.copytree(quickstart_run.directory, directory)
    config = directory / "profilemesh.yml"
    with RecordingHTTPServer() as hook, smtp_server() as (port, mailbox):
        data = yaml.safe_load(config.read_text())
        data["alerts"] = {
            "destinations": {
                "ops": {"type": "webhook", "url": hook.url, "secret_env": "PM_TEST_HOOK_SECRET"},
                "mail": {"type": "email", "host": "127.0.0.1", "port": port, "starttls": False,
                         "from": "pm@example.com", "to": ["data@example.com"]},
            }
        }  # fmt: skip
        config.write_text(yaml.safe_dump(data))
        env = {"PM_TEST_HOOK_SECRET": "quickstart"}
        dry = run_cli("alert", "-c", str(config), "--dry-run")
        assert dry.exit_code == 0 and "would send" in dry.stdout and "nothing was sent or recorded" in dry.stdout
        assert hook.requests == [] and mailbox.messages == []
        first = run_cli("alert", "-c", str(config), "--format", "json", env=env)
        assert first.exit_code == 0, first.stderr
        sent = yaml.safe_load(first.stdout)
        tables = {g["table"] for r in hook.requests for g in r.json()["groups"]}
        assert tables and tables <= {"customers", "orders", "events"}
        events_sent = [e["event_id"] for r in hook.requests for g in r.json()["groups"] for e in g["events"]]
        assert len(events_sent) == len(set(events_sent)) == sent["sent"] / 2
        assert len(mailbox.messages) == len(hook.requests)
        second = run_cli("alert", "-c", str(config), env=env)
        assert second.exit_code == 0 and "0 event(s) sent" in second.stdout
        assert len(hook.requests) == len(mailbox.messages) == len(sent["deliveries"]) // 2


def test_deliveries_on_the_snowflake_emulator(sf_store: Store) -> None:
    """The record's MERGE (Snowflake enforces no primary key): a failed delivery, then the same row sent."""
    from profilemesh.api import migrate_apply

    migrate_apply(sf_store.ctx, build_views=False)
    event = add_event(sf_store, run_id="run-1", table="orders", column="amount")
    with RecordingHTTPServer([Reply(503)], default=Reply(200)) as hook:
        ctx = configure(
            sf_store,
            {"retry": {**FAST_RETRY, "attempts": 1}, "destinations": {"ops": {"type": "webhook", "url": hook.url}}},
        )
        assert alert(ctx).failed == 1
        assert alert(sf_store.ctx).sent == 1 and alert(sf_store.ctx).deliveries == []
    [(event_id, destination, status, attempts, _, sent_at, _)] = deliveries(sf_store)
    assert (event_id, destination, status, attempts) == (event, "ops", "sent", 2) and sent_at is not None
    assert len(hook.requests) == 2


def test_alert_lease_on_the_snowflake_emulator_outlives_a_killed_run_until_its_ttl(
    sf_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snowflake's alert lock is a lease row (store/locks/run_lock.py). A run killed while its message is
    on the wire keeps the lease: the next run refuses at once with --lock-timeout 0 (store busy, naming
    the holder) and, given time, takes the lease over once the TTL has passed, sends the unfinished
    message again and clears the lease. The migration lock is not involved."""
    from profilemesh.api import migrate_apply, migrate_status

    migrate_apply(sf_store.ctx, build_views=False)
    add_event(sf_store, run_id="run-1", table="orders", column="amount")
    monkeypatch.setenv(LOCK_TTL_ENV, "12")  # long enough to be refused first, under load
    config = str(sf_store.config_path)
    lease = sf_store.qualified("profilemesh_migration_lock")
    with RecordingHTTPServer([Reply(delay=60)]) as hook:  # the first send hangs until the run is killed
        configure(sf_store, {"timeout_seconds": 60, "destinations": {"ops": {"type": "webhook", "url": hook.url}}})
        killed = _sending(sf_store, hook, env={LOCK_TTL_ENV: "12"})
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(30) == -signal.SIGKILL
        [(holder, token)] = sf_store.sql(f"SELECT holder, token FROM {lease} WHERE lock_name = 'alert'")
        assert holder.startswith("profilemesh alert ") and holder.endswith(f":{killed.pid}") and token
        refused = run_cli("alert", "-c", config, "--lock-timeout", "0")
        assert refused.exit_code == 3 and refused.stderr.count("\n") == 1, refused.stderr
        assert f"another `alert` run holds the alert lock ({holder}, until " in refused.stderr
        assert migrate_status(sf_store.ctx).lock_holder is None  # not the migration's lock
        taken_over = run_cli("alert", "-c", config, "--lock-timeout", "60", "--format", "json")
        assert taken_over.exit_code == 0, taken_over.stderr
        assert json.loads(taken_over.stdout)["sent"] == 1
    assert len(hook.requests) == 2  # the killed run's message, sent again
    assert len({r.headers["X-ProfileMesh-Message-Id"] for r in hook.requests}) == 1
    # Both rows free (the emulator reads a NULL TIMESTAMP_NTZ back as 1970-01-01: compared in SQL).
    cleared = sf_store.sql(
        f"SELECT lock_name, holder IS NULL AND token IS NULL AND expires_at IS NULL FROM {lease} ORDER BY lock_name"
    )
    assert cleared == [("alert", True), ("migrate", True)]
    [(_, _, status, attempts, *_)] = deliveries(sf_store)
    assert (status, attempts) == ("sent", 1)


def test_drift_notify_sends_what_alert_would(quickstart_run: QuickstartRun, tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    shutil.copytree(quickstart_run.directory, directory)
    config = directory / "profilemesh.yml"
    refused = run_cli("drift", "--notify", "-c", str(config))
    assert refused.exit_code == 2 and "--notify needs alert destinations" in refused.stderr
    with RecordingHTTPServer() as hook:
        data = yaml.safe_load(config.read_text())
        data["alerts"] = {"destinations": {"ops": {"type": "webhook", "url": hook.url}}}
        config.write_text(yaml.safe_dump(data))
        notified = run_cli("drift", "--notify", "-c", str(config))
        assert notified.exit_code == 0, notified.stderr
        assert hook.requests and "event(s) sent" in notified.stdout
        assert run_cli("alert", "-c", str(config)).stdout.startswith("0 event(s) sent")
        assert len(hook.requests) == len({r.headers["X-ProfileMesh-Message-Id"] for r in hook.requests})
