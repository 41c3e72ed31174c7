"""Email notifications: opt-in, the outbox, delivery (SMTP and .eml files), retries,
concurrent senders, one-click unsubscribe and the preferences page."""

from __future__ import annotations

import email
import ipaddress
import logging
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from forum.extensions import db
from forum.models import PERMANENT, NotificationKind, OutboxMessage, User, utcnow
from forum.services.notify import messages, outbox, transports
from forum.services.notify.background_sender import start_background_sender
from tests.conftest import Factory

REPLY = NotificationKind.REPLY
MENTION = NotificationKind.MENTION
BASE = "https://forum.example"


# -- a real SMTP server on 127.0.0.1 ------------------------------------------------------


class Collector:
    """aiosmtpd handler: keeps what it receives, or refuses every recipient."""

    def __init__(self, refuse: str | None = None, delay: float = 0.0):
        self.refuse = refuse
        self.delay = delay
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.encrypted: list[bool] = []  # per message: did it come over TLS?
        self.raw: list[bytes] = []  # per message, as it came over the wire
        self.url = ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        self.raw.append(envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"mailer", b"p@ss word")
        return AuthResult(success=ok)


class LocalController(Controller):
    """A Controller on a port the system picked (no race for a "free" port)."""

    def __init__(self, handler, **kwargs):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        port = self._socket.getsockname()[1]
        super().__init__(
            handler, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs
        )

    def _create_server(self):
        return self.loop.create_server(
            self._factory_invoker, sock=self._socket, ssl=self.ssl_context
        )


@pytest.fixture
def smtp_server():
    started = []

    def start(handler: Collector, **kwargs) -> Collector:
        controller = LocalController(handler, **kwargs)
        controller.start()
        started.append(controller)
        handler.url = f"smtp://127.0.0.1:{controller.port}"
        return handler

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def smtp(smtp_server) -> Collector:
    return smtp_server(Collector())


@pytest.fixture
def dead_port():
    """A port bound but not listening: connecting is refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def silent_port():
    """A port that accepts connections (into its backlog) and never says a word."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1 and localhost: the server's TLS
    context, and `trust()` to make it one the client's default context accepts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)

    def trust():
        # OpenSSL reads SSL_CERT_FILE whenever a default context loads its CAs.
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))

    return SimpleNamespace(server=server, trust=trust)


@pytest.fixture(autouse=True)
def outbox_dir(app, tmp_path):
    """Nothing in these tests writes to the real instance/outbox."""
    path = tmp_path / "outbox"
    app.config["FORUM_OUTBOX_DIR"] = str(path)
    app.config["FORUM_SMTP_URL"] = None
    return path


# -- helpers -------------------------------------------------------------------------------


def opt_in(app, user: User, *kinds) -> None:
    with app.app_context():
        db.session.get(User, user.id).email_kinds = [NotificationKind(k).value for k in kinds]
        db.session.commit()


def email_kinds(app, user: User) -> list:
    with app.app_context():
        return db.session.get(User, user.id).email_kinds


def queue(app, user: User, kind=REPLY, subject="Bob replied to you", body="Hello there."):
    """enqueue() inside a request, as the notifications service calls it; the id or None."""
    app.config["FORUM_BASE_URL"] = BASE  # links come from it, never from the request
    with app.test_request_context("/"):
        message = outbox.enqueue(db.session.get(User, user.id), kind, subject, body)
        db.session.commit()
        return None if message is None else message.id


def stored(app, message_id: int) -> OutboxMessage:
    return Factory(app).get(OutboxMessage, message_id)


def send(app, **kwargs) -> outbox.PassResult:
    with app.app_context():
        return outbox.send_due(**kwargs)


def outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


# -- queueing ---------------------------------------------------------------------------------


def test_enqueue_respects_opt_in(app, reader):
    assert email_kinds(app, reader) == []
    assert queue(app, reader, REPLY) is None  # nobody gets email by default
    opt_in(app, reader, REPLY)
    assert queue(app, reader, MENTION) is None  # not this kind
    message_id = queue(app, reader, REPLY)
    assert message_id is not None
    assert outbox_count(app) == 1

    message = stored(app, message_id)
    assert message.user_id == reader.id
    assert message.to_address == "alice@example.org"
    assert message.subject == "Bob replied to you"
    assert message.sent_at is None and message.attempts == 0
    assert message.next_attempt_at <= utcnow()
    assert message.unsubscribe_url.startswith(f"{BASE}/unsubscribe/")
    assert message.body.startswith("Hello there.")
    assert message.unsubscribe_url in message.body
    assert f"{BASE}/account/notifications" in message.body


def test_enqueue_is_part_of_the_callers_transaction(app, reader):
    opt_in(app, reader, REPLY)
    with app.test_request_context("/"):
        assert outbox.enqueue(db.session.get(User, reader.id), REPLY, "s", "b") is not None
        db.session.rollback()  # the request failed: no email either
    assert outbox_count(app) == 0


def test_enqueue_outside_a_request(app, reader):
    opt_in(app, reader, REPLY, MENTION)
    with app.app_context():
        message = outbox.enqueue(db.session.get(User, reader.id), "reply", "s", "b")
        assert message.unsubscribe_url.startswith("/unsubscribe/")  # no host known
        app.config["FORUM_BASE_URL"] = "https://comments.example.org/"
        message = outbox.enqueue(db.session.get(User, reader.id), MENTION, "s", "b")
        assert message.unsubscribe_url.startswith("https://comments.example.org/unsubscribe/")
        db.session.rollback()


def test_subject_cannot_inject_headers(app, reader, smtp):
    opt_in(app, reader, REPLY)
    message_id = queue(app, reader, subject="Hi\r\nBcc: victim@example.org\nX-Evil: 1")
    assert stored(app, message_id).subject == "Hi Bcc: victim@example.org X-Evil: 1"
    app.config["FORUM_SMTP_URL"] = smtp.url
    assert send(app).sent == 1
    received = smtp.messages[0]
    assert received["Bcc"] is None and received["X-Evil"] is None


# -- delivery over SMTP ---------------------------------------------------------------------


def test_delivers_to_an_smtp_server(app, reader, smtp):
    opt_in(app, reader, REPLY)
    message_id = queue(app, reader, subject="Bob replied to you", body="Ünïcode body.")
    url = stored(app, message_id).unsubscribe_url
    app.config["FORUM_SMTP_URL"] = smtp.url
    app.config["FORUM_MAIL_FROM"] = "The Forum <forum@news.example>"

    result = send(app)
    assert (result.sent, result.failed) == (1, 0)
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received["Subject"] == "Bob replied to you"
    assert received["To"] == "alice@example.org"
    assert received["From"] == "The Forum <forum@news.example>"
    assert received["List-Unsubscribe"] == f"<{url}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Verbatim on one line, as mail clients look for it (RFC 2369 has no encoded words).
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in smtp.raw[0]
    assert received["Message-ID"].endswith("@news.example>")
    assert smtp.encrypted == [False]  # plain smtp:// stays plain
    body = received.get_content()
    assert "Ünïcode body." in body and url in body

    message = stored(app, message_id)
    assert message.sent_at is not None
    assert message.attempts == 1 and message.last_error is None
    assert send(app).sent == 0  # sent once, never again
    assert len(smtp.messages) == 1


def test_smtp_login_with_credentials_from_the_url(app, reader, smtp_server):
    handler = Collector()
    smtp_server(handler, authenticator=handler.authenticate, auth_require_tls=False)
    opt_in(app, reader, REPLY)
    queue(app, reader)
    host = urlsplit(handler.url).netloc
    app.config["FORUM_SMTP_URL"] = f"smtp://mailer:p%40ss%20word@{host}"
    assert send(app).sent == 1
    assert handler.logins == [(b"mailer", b"p@ss word")]
    assert len(handler.messages) == 1


def test_server_down_backs_off_without_raising(app, reader, dead_port, caplog):
    opt_in(app, reader, REPLY)
    first, second = queue(app, reader), queue(app, reader)
    app.config["FORUM_SMTP_URL"] = f"smtp+starttls://mailer:hunter2-secret@127.0.0.1:{dead_port}"
    app.config["FORUM_SMTP_TIMEOUT"] = 2
    before = utcnow()
    with caplog.at_level(logging.WARNING, logger="forum.services.notify.outbox"):
        result = send(app)
    assert (result.sent, result.failed) == (0, 1)

    message = stored(app, first)
    assert message.sent_at is None
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert before + timedelta(minutes=2) <= message.next_attempt_at
    assert message.next_attempt_at <= utcnow() + timedelta(minutes=2)
    # The server is unreachable: the pass stopped instead of failing every message.
    assert stored(app, second).attempts == 0

    assert "failed" in caplog.text and f"outbox message {first}" in caplog.text
    assert "hunter2" not in caplog.text
    assert "hunter2" not in message.last_error

    # Not due yet: the next pass leaves the first alone and tries the second.
    assert send(app).failed == 1
    assert stored(app, first).attempts == 1
    assert stored(app, second).attempts == 1


def test_refused_recipient_is_retried_later(app, reader, smtp_server):
    refusing = smtp_server(Collector(refuse="550 5.1.1 No such mailbox"))
    opt_in(app, reader, REPLY)
    ids = [queue(app, reader), queue(app, reader)]
    app.config["FORUM_SMTP_URL"] = refusing.url
    result = send(app)
    assert (result.sent, result.failed) == (0, 2)  # not a connection problem: all tried
    for message_id in ids:
        message = stored(app, message_id)
        assert message.sent_at is None and message.attempts == 1
        assert "550" in message.last_error and len(message.last_error) <= 500
        assert message.next_attempt_at > utcnow() + timedelta(minutes=1)


def test_backoff_grows_and_delivery_gives_up(app, reader, dead_port, caplog):
    assert outbox.backoff(1) == timedelta(minutes=2)
    assert outbox.backoff(2) == timedelta(minutes=4)
    assert outbox.backoff(5) == timedelta(minutes=32)
    assert outbox.backoff(30) == outbox.BACKOFF_CAP

    opt_in(app, reader, REPLY)
    message_id = queue(app, reader)
    with app.app_context():
        db.session.get(OutboxMessage, message_id).attempts = outbox.MAX_ATTEMPTS - 1
        db.session.commit()
    app.config["FORUM_SMTP_URL"] = f"smtp://127.0.0.1:{dead_port}"
    with caplog.at_level(logging.ERROR, logger="forum.services.notify.outbox"):
        result = send(app)
    assert (result.failed, result.gave_up) == (1, 1)
    message = stored(app, message_id)
    assert message.attempts == outbox.MAX_ATTEMPTS
    assert message.next_attempt_at == PERMANENT and message.sent_at is None
    assert "giving up" in caplog.text
    with app.app_context():
        assert outbox.due_ids(utcnow() + timedelta(days=365), 10) == []


def test_bad_smtp_url_is_a_logged_failure(app, reader, caplog):
    opt_in(app, reader, REPLY)
    message_id = queue(app, reader)
    app.config["FORUM_SMTP_URL"] = "http://user:topsecret@mail.example"
    with caplog.at_level(logging.WARNING, logger="forum.services.notify.outbox"):
        assert send(app).failed == 1
    message = stored(app, message_id)
    assert "smtp://" in message.last_error and message.attempts == 1
    assert "topsecret" not in caplog.text and "topsecret" not in message.last_error


# -- encrypted connections and timeouts ------------------------------------------------------


def tls_server(smtp_server, tls, **kwargs) -> Collector:
    handler = Collector()
    smtp_server(handler, authenticator=handler.authenticate, **kwargs)
    return handler


# STARTTLS: the server allows AUTH only after it (aiosmtpd's auth_require_tls).
# smtps: TLS from the first byte, which aiosmtpd does not count as TLS for AUTH.
TLS_KINDS = {
    "smtp+starttls": {"require_starttls": True},
    "smtps": {"auth_require_tls": False},
}


def tls_sender(app, reader, smtp_server, tls, scheme: str) -> tuple[Collector, int]:
    """A TLS server of that kind, an opted-in reader, one queued message (its id)."""
    context = "tls_context" if scheme == "smtp+starttls" else "ssl_context"
    handler = tls_server(smtp_server, tls, **{context: tls.server}, **TLS_KINDS[scheme])
    opt_in(app, reader, REPLY)
    message_id = queue(app, reader, subject=f"Over {scheme}")
    host = urlsplit(handler.url).netloc
    app.config["FORUM_SMTP_URL"] = f"{scheme}://mailer:p%40ss%20word@{host}"
    return handler, message_id


@pytest.mark.parametrize("scheme", TLS_KINDS)
def test_tls_with_login(app, reader, smtp_server, tls, scheme):
    handler, _ = tls_sender(app, reader, smtp_server, tls, scheme)
    tls.trust()
    assert send(app).sent == 1
    assert handler.logins == [(b"mailer", b"p@ss word")]
    assert [m["Subject"] for m in handler.messages] == [f"Over {scheme}"]
    assert handler.encrypted == [True]


@pytest.mark.parametrize("scheme", TLS_KINDS)
def test_tls_refuses_a_certificate_nobody_vouches_for(app, reader, smtp_server, tls, scheme):
    handler, message_id = tls_sender(app, reader, smtp_server, tls, scheme)
    assert send(app).failed == 1
    message = stored(app, message_id)
    assert "CERTIFICATE_VERIFY_FAILED" in message.last_error and message.sent_at is None
    assert handler.logins == [] and handler.messages == []  # the password never left


def test_a_silent_server_times_out(app, reader, silent_port):
    opt_in(app, reader, REPLY)
    message_id = queue(app, reader)
    app.config["FORUM_SMTP_URL"] = f"smtp://127.0.0.1:{silent_port}"
    app.config["FORUM_SMTP_TIMEOUT"] = 0.5
    started = time.monotonic()
    assert send(app).failed == 1
    assert time.monotonic() - started < 5
    message = stored(app, message_id)
    assert "timed out" in message.last_error and message.sent_at is None


# -- development: .eml files ------------------------------------------------------------------


def test_writes_eml_files_without_an_smtp_url(app, reader, outbox_dir):
    opt_in(app, reader, REPLY)
    message_id = queue(app, reader, subject="Filed away", body="Read me in a mail client.")
    url = stored(app, message_id).unsubscribe_url
    assert send(app).sent == 1

    files = sorted(outbox_dir.iterdir())
    assert [f.suffix for f in files] == [".eml"]
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Filed away"
    assert parsed["To"] == "alice@example.org"
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert "Read me in a mail client." in parsed.get_content()
    assert stored(app, message_id).sent_at is not None


def test_default_outbox_is_in_the_instance_folder(app):
    app.config["FORUM_OUTBOX_DIR"] = None
    transport = transports.make_transport(app)
    assert isinstance(transport, transports.FileTransport)
    assert transport.directory == Path(app.instance_path) / "outbox"


# -- several senders at once ------------------------------------------------------------------


def test_a_claimed_message_is_not_claimed_again(app, reader):
    opt_in(app, reader, REPLY)
    message_id = queue(app, reader)
    with app.app_context():
        now = utcnow()
        assert outbox.claim(message_id, now) is True
        assert outbox.claim(message_id, now) is False  # leased to the first pass
        assert outbox.claim(message_id, now + timedelta(seconds=30)) is False
        assert outbox.claim(message_id, now + outbox.LEASE) is True  # the first one died


def test_concurrent_passes_never_send_a_message_twice(app, reader, smtp_server):
    smtp = smtp_server(Collector(delay=0.005))
    opt_in(app, reader, REPLY)
    ids = [queue(app, reader, subject=f"Message {n}") for n in range(24)]
    app.config["FORUM_SMTP_URL"] = smtp.url
    senders = 4
    barrier = threading.Barrier(senders)
    results: list[outbox.PassResult] = []
    errors: list[BaseException] = []

    def run():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(outbox.send_due(limit=100))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(r.sent for r in results) == len(ids)
    assert sum(r.failed for r in results) == 0
    subjects = [m["Subject"] for m in smtp.messages]
    assert sorted(subjects) == sorted(f"Message {n}" for n in range(24))
    assert len({m["Message-ID"] for m in smtp.messages}) == len(ids)
    for message_id in ids:
        message = stored(app, message_id)
        assert message.sent_at is not None and message.attempts == 1


def test_mail_send_command(app, reader, runner, smtp):
    opt_in(app, reader, REPLY)
    queue(app, reader)
    app.config["FORUM_SMTP_URL"] = smtp.url
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 1, failed 0." in result.output
    assert len(smtp.messages) == 1
    assert "Sent 0, failed 0." in runner.invoke(args=["mail", "send"]).output


# -- the background sender ----------------------------------------------------------------------


def test_background_sender_is_off_under_tests_and_when_switched_off(app, app_with):
    assert start_background_sender(app) is None  # app.testing
    assert start_background_sender(app_with(TESTING=False, FORUM_MAIL_WORKER="off")) is None


def test_background_sender_delivers(app_with, smtp, tmp_path):
    live = app_with(
        TESTING=False,
        FORUM_MAIL_INTERVAL=0.05,
        FORUM_SMTP_URL=smtp.url,
        FORUM_OUTBOX_DIR=str(tmp_path / "live-outbox"),
    )
    sender = start_background_sender(live)
    assert sender is not None
    assert start_background_sender(live) is sender  # once per app
    try:
        user = Factory(live).user("bea")
        opt_in(live, user, REPLY)
        queue(live, user)
        live.test_client().get("/")  # the first request starts the thread
        deadline = time.monotonic() + 10
        while not smtp.messages and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(smtp.messages) == 1
    finally:
        sender.stop()
    assert not sender._thread.is_alive()


# -- unsubscribe ----------------------------------------------------------------------------------


def test_unsubscribe_page_then_one_click(app, client, reader):
    opt_in(app, reader, REPLY, MENTION)
    url = stored(app, queue(app, reader, REPLY)).unsubscribe_url
    path = urlsplit(url).path

    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Someone replies to one of my comments" in text
    assert f'action="{path}"' in text and "Unsubscribe</button>" in text
    assert page.headers["Cache-Control"] == "no-store"
    assert email_kinds(app, reader) == ["reply", "mention"]  # GET changes nothing

    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "You are unsubscribed" in done.get_data(as_text=True)
    assert email_kinds(app, reader) == ["mention"]
    assert queue(app, reader, REPLY) is None

    again = client.post(path, data={"List-Unsubscribe": "One-Click"})  # idempotent
    assert again.status_code == 200 and email_kinds(app, reader) == ["mention"]
    assert "Nothing to stop" in client.get(path).get_data(as_text=True)


def test_one_click_needs_no_csrf_token(app_with):
    strict = app_with(WTF_CSRF_ENABLED=True)
    user = Factory(strict).user("carl")
    opt_in(strict, user, MENTION)
    with strict.app_context():
        token = messages.unsubscribe_token(user.id, MENTION)
    client = strict.test_client()
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert email_kinds(strict, user) == []


@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_unsubscribe_tokens_are_refused(app, client, reader, method):
    opt_in(app, reader, REPLY)
    forged_key = URLSafeTimedSerializer("not the secret", salt=messages.UNSUBSCRIBE_SALT)
    right_key = URLSafeTimedSerializer(app.secret_key, salt=messages.UNSUBSCRIBE_SALT)
    with app.app_context():
        genuine = messages.unsubscribe_token(reader.id, REPLY)
    tokens = [
        "garbage",
        genuine[:-3] + ("AAA" if not genuine.endswith("AAA") else "BBB"),
        forged_key.dumps([reader.id, "reply"]),
        right_key.dumps([reader.id, "everything"]),
        right_key.dumps({"user": reader.id}),
        right_key.dumps(["1", "reply"]),
        "%E2%9C%93" * 3,
    ]
    for token in tokens:
        response = getattr(client, method)(f"/unsubscribe/{token}")
        assert response.status_code == 400, token
        assert "This unsubscribe link is not valid" in response.get_data(as_text=True)
    assert email_kinds(app, reader) == ["reply"]


def test_unsubscribe_for_a_deleted_account(app, client, reader):
    with app.app_context():
        token = messages.unsubscribe_token(reader.id + 1000, REPLY)
    assert client.get(f"/unsubscribe/{token}").status_code == 200
    assert client.post(f"/unsubscribe/{token}").status_code == 200


# -- preferences ---------------------------------------------------------------------------------


def test_preferences_page_lists_every_kind_with_labels(reader_client):
    page = reader_client.get("/account/notifications")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<fieldset" in text and "<legend>Email me when…</legend>" in text
    assert "alice@example.org" in text
    for index, kind in enumerate(NotificationKind):
        assert f'id="kinds-{index}"' in text and f'for="kinds-{index}"' in text
        assert f'value="{kind.value}"' in text
        assert messages.KIND_LABELS[kind] in text
    assert "checked" not in text  # nothing by default


def test_preferences_page_saves_checkboxes(app, reader_client, reader):
    response = reader_client.post(
        "/account/notifications", data={"kinds": ["mention", "reply", "theory_confirmed"]}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/notifications"
    assert email_kinds(app, reader) == ["reply", "theory_confirmed", "mention"]
    page = reader_client.get("/account/notifications").get_data(as_text=True)
    assert page.count("checked") == 3
    assert "Saved." in page

    assert reader_client.post("/account/notifications", data={}).status_code == 302
    assert email_kinds(app, reader) == []


def test_preferences_refuse_unknown_kinds(app, reader_client, reader):
    opt_in(app, reader, REPLY)
    response = reader_client.post("/account/notifications", data={"kinds": ["reply", "spam"]})
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert email_kinds(app, reader) == ["reply"]


def test_preferences_need_a_login(client):
    response = client.get("/account/notifications")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    response = client.post("/account/notifications", data={"kinds": ["reply"]})
    assert response.status_code == 302


def test_preferences_form_needs_csrf(app_with):
    strict = app_with(WTF_CSRF_ENABLED=True)
    user = Factory(strict).user("dora")
    client = strict.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/auth/login",
        data={"username": "dora", "password": "correct horse battery", "csrf_token": token},
    )
    response = client.post("/account/notifications", data={"kinds": ["reply"]})
    assert response.status_code == 400
    assert email_kinds(strict, user) == []


def test_database_trouble_during_delivery_is_logged_without_sql(app, reader, caplog, monkeypatch):
    opt_in(app, reader, REPLY)
    queue(app, reader, REPLY)

    def gone(message_id, now):
        raise OperationalError(
            "UPDATE outbox SET to_address=?", ("alice@example.org",), Exception("database gone")
        )

    monkeypatch.setattr(outbox, "claim", gone)
    with caplog.at_level("WARNING", logger=outbox.log.name):
        send(app)
    lines = [r.getMessage() for r in caplog.records if r.name == outbox.log.name]
    assert lines == ["mail: database trouble during a delivery pass: builtins.Exception"]
    assert "alice@example.org" not in caplog.text and "UPDATE" not in caplog.text


def test_one_click_unsubscribes_from_a_mail_provider_are_never_rate_limited(app_with):
    # One provider's servers send every user's one-click unsubscribe.
    limited = app_with(FORUM_RATELIMIT="on")
    user = Factory(limited).user("dora")
    with limited.app_context():
        token = messages.unsubscribe_token(user.id, MENTION)
    client = limited.test_client()
    statuses = {
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code
        for _ in range(130)
    }
    assert statuses == {200}
