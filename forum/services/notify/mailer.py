"""Email: messages are queued in the outbox inside the request's transaction and
delivered afterwards, so sending never blocks or fails a request.

- enqueue() writes one OutboxMessage (only for readers who opted in to that kind),
  with a signed one-click unsubscribe link in its body and in unsubscribe_url.
- send_due() is one delivery pass: it claims due rows one at a time with a
  conditional UPDATE (a lease), so any number of processes can run passes at once
  and a message is never handed to two of them; failures back off exponentially
  and are given up after MAX_ATTEMPTS.
- The transport is SMTP when FORUM_SMTP_URL is set (smtp://, smtp+starttls://,
  smtps://), else .eml files in FORUM_OUTBOX_DIR (default instance/outbox/).
- Passes run from `flask --app forum mail send` (cron) and from a daemon thread
  per process armed by start_background_sender(app).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import smtplib
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from forum import links
from forum.extensions import db
from forum.models import PERMANENT, NotificationKind, OutboxMessage, User, utcnow
from forum.private_files import private_folder

log = logging.getLogger(__name__)

# What each kind is called on the preferences page and in the email footer.
KIND_LABELS = {
    NotificationKind.REPLY: "Someone replies to one of my comments",
    NotificationKind.THREAD_REPLY: "A new comment appears in a discussion I follow",
    NotificationKind.APPROVED: "A moderator approves my held comment",
    NotificationKind.REJECTED: "A moderator rejects my held comment",
    NotificationKind.THEORY_CONFIRMED: "One of my theories is confirmed",
    NotificationKind.THEORY_DEBUNKED: "One of my theories is debunked",
    NotificationKind.MENTION: "Someone mentions me (@username)",
}

UNSUBSCRIBE_SALT = "forum.mail.unsubscribe"
# Unsubscribe links never expire: an old email must still let its reader opt out,
# and the link can only ever remove one opt-in.
UNSUBSCRIBE_MAX_AGE = None

MAX_ATTEMPTS = 8  # then give up (logged); the row stays, with next_attempt_at = PERMANENT
BACKOFF_BASE = timedelta(minutes=2)  # 2, 4, 8 … 128 minutes: about 4 hours in all
BACKOFF_CAP = timedelta(hours=6)
LEASE = timedelta(minutes=5)  # a claimed row is invisible to other passes this long
ERROR_LENGTH = 500  # OutboxMessage.last_error

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


# -- unsubscribe tokens ------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind: NotificationKind | str) -> str:
    return _serializer().dumps([int(user_id), NotificationKind(kind).value])


def read_unsubscribe_token(token: str) -> tuple[int, NotificationKind] | None:
    """(user id, kind) from a token this site signed, or None for anything else."""
    try:
        payload = _serializer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except (BadData, UnicodeError, ValueError, TypeError):
        return None
    if not (isinstance(payload, list) and len(payload) == 2):
        return None
    user_id, kind = payload
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(kind, str):
        return None
    try:
        return user_id, NotificationKind(kind)
    except ValueError:
        return None


def link(endpoint: str, **values) -> str:
    """An absolute URL for an email (forum.links: never a request's made-up host)."""
    return links.external(endpoint, **values)


def unsubscribe_url(user: User, kind: NotificationKind | str) -> str:
    return link("account.unsubscribe", token=unsubscribe_token(user.id, kind))


def wants_email(user: User, kind: NotificationKind | str) -> bool:
    return NotificationKind(kind).value in (user.email_kinds or [])


# -- queueing -----------------------------------------------------------------------


def enqueue(
    user: User, kind: NotificationKind, subject: str, body: str, comment_id: int | None = None
) -> OutboxMessage | None:
    """Queue one email to this user about a notification of this kind, in the
    current transaction; None (nothing queued) unless they opted in to the kind."""
    kind = NotificationKind(kind)
    if not user.email or not wants_email(user, kind):
        return None
    stop_link = unsubscribe_url(user, kind)
    footer = (
        "\n\n-- \n"
        f"You get this email because you chose: {KIND_LABELS[kind]}.\n"
        f"Stop these emails: {stop_link}\n"
        f"Choose which emails you get: {link('account.notifications')}\n"
    )
    message = OutboxMessage(
        user_id=user.id,
        comment_id=comment_id,
        to_address=user.email,
        subject=_one_line(subject)[:300],
        body=body.rstrip() + footer,
        unsubscribe_url=stop_link[:2000],
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def enqueue_account_email(user: User, address: str, subject: str, body: str) -> OutboxMessage:
    """Queue an email about the account itself (a reset link, an address to
    confirm): sent whatever the notification choices, to `address`."""
    message = OutboxMessage(
        user_id=user.id,
        to_address=address,
        subject=_one_line(subject)[:300],
        body=body.rstrip() + "\n",
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def _one_line(text: str) -> str:
    # No header injection, no folded subjects.
    return " ".join(text.split())


# -- building and transports ------------------------------------------------------------


def build_message(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = _one_line(message.subject)
    email["Date"] = format_datetime(message.created_at or utcnow())
    email["Message-ID"] = (
        f"<outbox.{message.id}.{int((message.created_at or utcnow()).timestamp())}"
        f"@{_domain(sender)}>"
    )
    email["Auto-Submitted"] = "auto-generated"
    url = message.unsubscribe_url or ""
    if url.startswith(("https://", "http://")):
        # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs.
        email["List-Unsubscribe"] = f"<{url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body)
    return email


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2]
    return domain or "localhost"


class MailConfigError(Exception):
    """FORUM_SMTP_URL cannot work; every delivery fails until it is fixed."""


@functools.cache
def _helo_name() -> str:
    # Looked up once per process: getfqdn() can wait on DNS.
    return socket.getfqdn()


class SmtpTransport:
    """One SMTP connection, opened on the first message and reused for a pass."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        if self.scheme not in SCHEMES:
            raise MailConfigError(
                f"FORUM_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, "
                f"not {self.scheme or '(nothing)'}://"
            )
        try:
            self.port = parts.port or SCHEMES[self.scheme]
        except ValueError:
            raise MailConfigError("FORUM_SMTP_URL has a port that is not a number") from None
        if not parts.hostname:
            raise MailConfigError("FORUM_SMTP_URL names no host")
        self.host = parts.hostname
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never the password
        return f"<SmtpTransport {self.scheme}://{self.host}:{self.port}>"

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            connection = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=_helo_name(),
                timeout=self.timeout,
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(
                self.host, self.port, local_hostname=_helo_name(), timeout=self.timeout
            )
        try:
            connection.ehlo()
            if self.scheme == "smtp+starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if self.username:
                connection.login(self.username, self._password)
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, email: EmailMessage) -> None:
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.send_message(email)
        except BaseException:
            # The connection may be in any state now: start afresh next time.
            self.close()
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            connection.close()


class FileTransport:
    """Development: each message becomes an RFC 5322 .eml file in a folder.

    The files hold live links (password resets, confirmations): they are 0600,
    and the folder is made 0700; `tighten` also takes an existing folder's
    group and other permissions away (for the default one, inside the instance
    folder; a folder the operator named keeps its mode).
    """

    def __init__(self, directory: Path, tighten: bool = False):
        self.directory = directory
        self.tighten = tighten

    def __repr__(self) -> str:
        return f"<FileTransport {self.directory}>"

    def send(self, email: EmailMessage) -> None:
        private_folder(self.directory, tighten=self.tighten)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
        ident = email["Message-ID"].strip("<>").split("@")[0]
        path = self.directory / f"{stamp}-{ident}.eml"
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(email.as_bytes())
            os.replace(temporary, path)  # never a half-written .eml
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def close(self) -> None:
        pass


def outbox_dir(app: Flask) -> Path:
    configured = app.config.get("FORUM_OUTBOX_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "outbox"


def make_transport(app: Flask):
    url = app.config.get("FORUM_SMTP_URL")
    if not url:
        return FileTransport(outbox_dir(app), tighten=not app.config.get("FORUM_OUTBOX_DIR"))
    return SmtpTransport(url, timeout=float(app.config.get("FORUM_SMTP_TIMEOUT") or 10))


# -- delivery ------------------------------------------------------------------------------


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0

    def __str__(self) -> str:
        text = f"Sent {self.sent}, failed {self.failed}"
        return text + (f" (gave up on {self.gave_up})." if self.gave_up else ".")


def backoff(attempts: int) -> timedelta:
    """The wait after the attempts-th failed attempt."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def due_ids(now: datetime, limit: int) -> list[int]:
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def claim(message_id: int, now: datetime) -> bool:
    """Take one due message for this pass (committed); False if another pass has it.

    The conditional UPDATE is atomic on every backend: of two passes racing for a
    row only one sees rowcount 1. The lease makes the row not due for a while, and
    the attempt is counted now, so a process dying mid-send cannot retry forever.
    """
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def send_due(limit: int | None = None, transport=None) -> PassResult:
    """One delivery pass over at most `limit` due messages, oldest first. Needs an
    app context; never raises for a failed delivery (it is recorded and logged)."""
    app = current_app._get_current_object()
    limit = int(limit or app.config.get("FORUM_MAIL_BATCH") or 50)
    result = PassResult()
    now = utcnow()
    ids = due_ids(now, limit)
    db.session.commit()  # end the read: claims are short transactions of their own
    if not ids:
        return result
    owned = transport is None
    try:
        transport = transport or make_transport(app)
    except MailConfigError as error:
        transport = _Broken(error)
    sender = app.config.get("FORUM_MAIL_FROM") or "forum <noreply@localhost>"
    try:
        for message_id in ids:
            try:
                # A fresh time per claim: the lease must outlast this send, however
                # long the pass has run so far.
                if not claim(message_id, utcnow()):
                    continue  # another process took it
                if not _deliver(message_id, transport, sender, result):
                    break  # the server is unreachable: the rest waits for the next pass
            except SQLAlchemyError as error:
                # The database is busy or gone: a claimed row's lease runs out and
                # the next pass retries it.
                db.session.rollback()
                log.warning("mail: database trouble during a delivery pass: %s", _summary(error))
                break
    finally:
        if owned:
            transport.close()
    return result


# Errors about one message (its recipient or content): the pass goes on with the
# next. Any other SMTP or network error (smtplib's are OSErrors too) is about the
# server or its configuration: the pass stops, the rest waits for the next one.
_MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


def _keeps_going(error: Exception) -> bool:
    if isinstance(error, _MESSAGE_ERRORS):
        return True
    return not isinstance(error, (OSError, MailConfigError))


def _deliver(message_id: int, transport, sender: str, result: PassResult) -> bool:
    """Send one claimed message and record the outcome; False if the pass should stop."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:  # deleted with its user meanwhile
        return True
    try:
        transport.send(build_message(message, sender))
    except Exception as error:  # recorded on the row; a delivery never raises
        db.session.rollback()
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            return True
        _record_failure(message, error, result)
        return _keeps_going(error)
    message.sent_at = utcnow()
    message.last_error = None
    db.session.commit()
    result.sent += 1
    return True


def _record_failure(message: OutboxMessage, error: Exception, result: PassResult) -> None:
    text = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    message.last_error = text
    if message.attempts >= MAX_ATTEMPTS:
        message.next_attempt_at = PERMANENT
        result.gave_up += 1
        log.error(
            "mail: giving up on outbox message %s after %s attempts: %s",
            message.id,
            message.attempts,
            text,
        )
    else:
        wait = backoff(message.attempts)
        message.next_attempt_at = utcnow() + wait
        log.warning(
            "mail: outbox message %s failed (attempt %s of %s, next in %s): %s",
            message.id,
            message.attempts,
            MAX_ATTEMPTS,
            wait,
            text,
        )
    result.failed += 1
    db.session.commit()


class _Broken:
    """A transport for a configuration that cannot work: every send fails with why."""

    def __init__(self, error: Exception):
        self.error = error

    def send(self, email: EmailMessage) -> None:
        raise self.error

    def close(self) -> None:
        pass


# -- the background sender ----------------------------------------------------------------


class BackgroundSender:
    """A daemon thread per process running a pass every FORUM_MAIL_INTERVAL seconds.

    It is started lazily by the first request a process serves (ensure_running), so
    `flask` commands never run it and each forked gunicorn worker gets its own;
    claims keep the workers from ever sending one message twice.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.interval = float(app.config.get("FORUM_MAIL_INTERVAL") or 5)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stop = threading.Event()

    def ensure_running(self) -> None:
        if self._running():
            return
        with self._lock:
            if self._running():
                return
            self._stop = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="forum-mail-sender", daemon=True
            )
            self._thread.start()

    def _running(self) -> bool:
        thread = self._thread
        return thread is not None and self._pid == os.getpid() and thread.is_alive()

    def stop(self, timeout: float | None = 10) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        # Workers started together should not all poll at the same moment.
        first = random.uniform(0, self.interval)
        last_problem = None
        while not stop.wait(first if first is not None else self.interval):
            first = None
            try:
                with self.app.app_context():
                    self.run_pass()
                last_problem = None
            except SQLAlchemyError as error:  # the database is away: say so once, briefly
                problem = _summary(error)
                if problem != last_problem:
                    log.warning("mail: a background delivery pass failed: %s", problem)
                last_problem = problem
            except Exception as error:  # keep the thread alive; say it once per cause
                problem = f"{type(error).__name__}: {error}"
                if problem != last_problem:
                    log.exception("mail: a background delivery pass failed")
                last_problem = problem

    def run_pass(self) -> PassResult:
        result = send_due()
        if result.sent or result.failed:
            log.info("mail: %s", result)
        return result


def start_background_sender(app: Flask) -> BackgroundSender | None:
    """Arm the background sender for this app; a no-op (None) under tests or when
    FORUM_MAIL_WORKER is "off". Call it from create_app()."""
    if app.testing or str(app.config.get("FORUM_MAIL_WORKER", "on")).lower() == "off":
        return None
    existing = app.extensions.get("forum_mail_sender")
    if existing is not None:
        return existing
    sender = BackgroundSender(app)
    app.extensions["forum_mail_sender"] = sender
    app.before_request(sender.ensure_running)
    return sender


def _summary(error: Exception) -> str:
    """A database error in a few words: its driver-level type, never the SQL or
    its parameters (they hold readers' addresses and words)."""
    original = getattr(error, "orig", None) or error
    return f"{type(original).__module__}.{type(original).__name__}"
