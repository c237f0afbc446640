"""Real servers on loopback for the alert tests: an HTTP server that records every request and answers
from a script (200, 500, 429 with Retry-After, or no answer in time), and an SMTP server (aiosmtpd)
that records every message, optionally with STARTTLS on a self-signed certificate made here."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Reply:
    """How the server answers one request: a status, headers, and a delay before answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"
    delay: float = 0.0


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class RecordingHTTPServer:
    """Records every POST; answers with the scripted replies in order, then with `default`."""

    def __init__(self, replies: list[Reply] | None = None, default: Reply | None = None):
        self.replies = list(replies or [])
        self.default = default or Reply()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.requests.append(Request(self.path, dict(self.headers.items()), body, time.monotonic()))
                    reply = server.replies.pop(0) if server.replies else server.default
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RecordingHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class SmtpRecord:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)


class _Handler:
    def __init__(self, record: SmtpRecord):
        self.record = record

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.record.envelopes.append(envelope)
        self.record.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        self.record.tls.append(session.ssl is not None)
        return "250 OK"


@contextmanager
def smtp_server(tls_context: ssl.SSLContext | None = None) -> Iterator[tuple[int, SmtpRecord]]:
    """An SMTP server on 127.0.0.1 (a free port); with `tls_context`, STARTTLS is offered and required."""
    from aiosmtpd.controller import Controller

    record = SmtpRecord()
    kwargs: dict[str, Any] = {}
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    port = _free_port()  # aiosmtpd's Controller checks its server by connecting to the port it was given
    controller = Controller(_Handler(record), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port, record
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files in `directory`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def server_tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
