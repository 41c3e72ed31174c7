"""Email is queued in the outbox inside the request's transaction and delivered
afterwards, so sending never blocks or fails a request.

- enqueue() writes one OutboxMessage (only for readers who opted in to that kind),
  with a signed one-click unsubscribe link in its body and in unsubscribe_url.
- send_due() is one delivery pass: it claims due rows one at a time with a
  conditional UPDATE (a lease), so any number of processes can run passes at once
  and a message is never handed to two of them; failures back off exponentially
  and are given up after MAX_ATTEMPTS.
- Passes run from `flask --app forum mail send` (cron) and from a daemon thread
  per process (forum.services.notify.background_sender); the messages go out
  through forum.services.notify.transports.
- The moderators' alerts webhook rides the same queue (enqueue_webhook(), channel
  OUTBOX_WEBHOOK): the same claims, backoff and giving up, its calls made by
  forum.services.notify.webhooks.  Each channel stops on its own: an SMTP server
  that is down does not hold back the webhook, nor a webhook the mail.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from forum.extensions import db
from forum.models import (
    OUTBOX_EMAIL,
    OUTBOX_WEBHOOK,
    PERMANENT,
    NotificationKind,
    OutboxMessage,
    User,
    utcnow,
)
from forum.services.notify import messages, webhooks
from forum.services.notify.transports import BrokenTransport, MailConfigError, make_transport

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # then give up (logged); the row stays, with next_attempt_at = PERMANENT
BACKOFF_BASE = timedelta(minutes=2)  # 2, 4, 8 … 128 minutes: about 4 hours in all
BACKOFF_CAP = timedelta(hours=6)
LEASE = timedelta(minutes=5)  # a claimed row is invisible to other passes this long
ERROR_LENGTH = 500  # OutboxMessage.last_error


# -- queueing -----------------------------------------------------------------------


def enqueue(
    user: User, kind: NotificationKind, subject: str, body: str, comment_id: int | None = None
) -> OutboxMessage | None:
    """Queue one email to this user about a notification of this kind, in the
    current transaction; None (nothing queued) unless they opted in to the kind."""
    kind = NotificationKind(kind)
    if not user.email or not messages.wants_email(user, kind):
        return None
    stop_link = messages.unsubscribe_url(user, kind)
    message = OutboxMessage(
        user_id=user.id,
        comment_id=comment_id,
        to_address=user.email,
        subject=messages.one_line(subject)[:300],
        body=body.rstrip() + messages.footer(kind, stop_link),
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
        subject=messages.one_line(subject)[:300],
        body=body.rstrip() + "\n",
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


def enqueue_to_moderator(user: User, subject: str, body: str) -> OutboxMessage:
    """Queue a moderators' alert digest (forum.services.notify.alerts) to this
    moderator, who chose to get them; the body carries its own footer."""
    return enqueue_account_email(user, user.email, subject, body)


def enqueue_webhook(url: str, body: str, comment_id: int | None = None) -> OutboxMessage:
    """Queue a call of the alerts webhook (body: the JSON to POST), in the
    current transaction; it is signed when it is sent."""
    message = OutboxMessage(
        channel=OUTBOX_WEBHOOK,
        target_url=url[:2000],
        comment_id=comment_id,
        to_address="",
        subject=f"webhook to {webhooks.host_of(url)}"[:300],
        body=body,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message


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
    return [message_id for message_id, _channel in due(now, limit)]


def due(now: datetime, limit: int) -> list[tuple[int, str]]:
    """(id, channel) of the messages due, oldest first."""
    return [
        (message_id, channel)
        for message_id, channel in db.session.execute(
            select(OutboxMessage.id, OutboxMessage.channel)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    ]


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
    ids = due(now, limit)
    db.session.commit()  # end the read: claims are short transactions of their own
    if not ids:
        return result
    owned = transport is None
    try:
        transport = transport or make_transport(app)
    except MailConfigError as error:
        transport = BrokenTransport(error)
    sender = app.config.get("FORUM_MAIL_FROM") or "forum <noreply@localhost>"
    stopped: set[str] = set()  # channels whose server is unreachable this pass
    try:
        for message_id, channel in ids:
            if channel in stopped:
                continue  # it waits for the next pass
            try:
                # A fresh time per claim: the lease must outlast this send, however
                # long the pass has run so far.
                if not claim(message_id, utcnow()):
                    continue  # another process took it
                if not _deliver(message_id, transport, sender, result):
                    stopped.add(channel)
            except SQLAlchemyError as error:
                # The database is busy or gone: a claimed row's lease runs out and
                # the next pass retries it.
                db.session.rollback()
                log.warning("mail: database trouble during a delivery pass: %s", summary(error))
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
    if isinstance(error, webhooks.WebhookError):
        return not error.stop
    if isinstance(error, _MESSAGE_ERRORS):
        return True
    return not isinstance(error, (OSError, MailConfigError))


def _deliver(message_id: int, transport, sender: str, result: PassResult) -> bool:
    """Send one claimed message and record the outcome; False if the pass should stop."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:  # deleted with its user meanwhile
        return True
    try:
        if message.channel == OUTBOX_WEBHOOK:
            webhooks.deliver(message)
        else:
            transport.send(messages.build_message(message, sender))
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
    what = "mail" if message.channel == OUTBOX_EMAIL else message.channel
    if message.attempts >= MAX_ATTEMPTS or getattr(error, "final", False):
        message.next_attempt_at = PERMANENT
        result.gave_up += 1
        log.error(
            "%s: giving up on outbox message %s after %s attempts: %s",
            what,
            message.id,
            message.attempts,
            text,
        )
    else:
        wait = backoff(message.attempts)
        message.next_attempt_at = utcnow() + wait
        log.warning(
            "%s: outbox message %s failed (attempt %s of %s, next in %s): %s",
            what,
            message.id,
            message.attempts,
            MAX_ATTEMPTS,
            wait,
            text,
        )
    result.failed += 1
    db.session.commit()


def summary(error: Exception) -> str:
    """A database error in a few words: its driver-level type, never the SQL or
    its parameters (they hold readers' addresses and words)."""
    original = getattr(error, "orig", None) or error
    return f"{type(original).__module__}.{type(original).__name__}"
