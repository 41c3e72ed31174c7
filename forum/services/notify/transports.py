"""Where a built email goes: Flask-Mailman's SMTP backend when FORUM_SMTP_URL is
set (smtp://, smtp+starttls://, smtps://, with credentials in the URL), else one
private .eml file per message in FORUM_OUTBOX_DIR (default instance/outbox/).

A transport is made once per delivery pass: `send(email)` opens the connection
on the first message and reuses it; `close()` ends it whatever state it is in.
Every transport needs an app with Flask-Mailman bound (forum.extensions.mail).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask
from flask_mailman import EmailMessage
from flask_mailman.backends.base import BaseEmailBackend
from flask_mailman.backends.smtp import EmailBackend as MailmanSmtpBackend

from forum.models import utcnow
from forum.private_files import private_folder

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailConfigError(Exception):
    """FORUM_SMTP_URL cannot work; every delivery fails until it is fixed."""


def smtp_settings(url: str) -> dict:
    """Flask-Mailman's SMTP backend arguments for a FORUM_SMTP_URL (the user name
    and password percent-decoded). Raises MailConfigError, never with the password."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise MailConfigError(
            f"FORUM_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, "
            f"not {scheme or '(nothing)'}://"
        )
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise MailConfigError("FORUM_SMTP_URL has a port that is not a number") from None
    if not parts.hostname:
        raise MailConfigError("FORUM_SMTP_URL names no host")
    return {
        "host": parts.hostname,
        "port": port,
        # "" rather than None: None would mean "take MAIL_USERNAME" to Flask-Mailman.
        "username": unquote(parts.username) if parts.username else "",
        "password": unquote(parts.password) if parts.password else "",
        "use_tls": scheme == "smtp+starttls",
        "use_ssl": scheme == "smtps",
    }


class _VerifyingSMTP(smtplib.SMTP):
    """smtplib's STARTTLS without a context checks no certificate at all (and
    Flask-Mailman passes none): the server's certificate and name are checked
    here, as smtps:// does, so the password never goes to an impostor."""

    def starttls(self, context=None):
        return super().starttls(context=context or ssl.create_default_context())


class SmtpTransport(MailmanSmtpBackend):
    """One SMTP connection, opened on the first message and reused for a pass."""

    @property
    def connection_class(self):
        return smtplib.SMTP_SSL if self.use_ssl else _VerifyingSMTP

    def __repr__(self) -> str:  # never the password
        scheme = "smtps" if self.use_ssl else "smtp+starttls" if self.use_tls else "smtp"
        return f"<SmtpTransport {scheme}://{self.host}:{self.port}>"

    def send(self, email: EmailMessage) -> None:
        """Raises what smtplib raises (OSError, SMTPException)."""
        try:
            self.open()
            self.send_messages([email])
        except BaseException:
            # The connection may be in any state now: start afresh next time.
            self.close()
            raise

    def close(self) -> None:
        connection = self.connection
        try:
            super().close()
        except (smtplib.SMTPException, OSError):
            pass  # the server went away mid-goodbye
        finally:
            if connection is not None:
                connection.close()  # the socket, whatever QUIT did


class FileTransport(BaseEmailBackend):
    """Development: each message becomes an RFC 5322 .eml file in a folder.

    The files hold live links (password resets, confirmations): they are 0600,
    and the folder is made 0700; `tighten` also takes an existing folder's
    group and other permissions away (for the default one, inside the instance
    folder; a folder the operator named keeps its mode).
    """

    def __init__(self, directory: Path, tighten: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.directory = directory
        self.tighten = tighten

    def __repr__(self) -> str:
        return f"<FileTransport {self.directory}>"

    def send_messages(self, email_messages) -> int:
        for email in email_messages:
            self.send(email)
        return len(email_messages)

    def send(self, email: EmailMessage) -> None:
        """Raises OSError."""
        private_folder(self.directory, tighten=self.tighten)
        mime = email.message()
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
        ident = str(mime["Message-ID"]).strip("<>").split("@")[0]
        path = self.directory / f"{stamp}-{ident}.eml"
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(mime.as_bytes())
            os.replace(temporary, path)  # never a half-written .eml
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


class BrokenTransport:
    """A transport for a configuration that cannot work: every send fails with why."""

    def __init__(self, error: Exception):
        self.error = error

    def send(self, email: EmailMessage) -> None:
        raise self.error

    def close(self) -> None:
        pass


def outbox_dir(app: Flask) -> Path:
    configured = app.config.get("FORUM_OUTBOX_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "outbox"


def make_transport(app: Flask) -> SmtpTransport | FileTransport:
    """The transport app's configuration names. Raises MailConfigError."""
    mailman = app.extensions["mailman"]
    url = app.config.get("FORUM_SMTP_URL")
    if not url:
        return FileTransport(
            outbox_dir(app), tighten=not app.config.get("FORUM_OUTBOX_DIR"), mailman=mailman
        )
    timeout = float(app.config.get("FORUM_SMTP_TIMEOUT") or 10)
    return SmtpTransport(mailman=mailman, timeout=timeout, **smtp_settings(url))
