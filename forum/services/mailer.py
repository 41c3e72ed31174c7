"""Email: messages are queued in the outbox inside the request's transaction and
delivered afterwards, so sending never blocks or fails a request."""

from __future__ import annotations

from forum.extensions import db
from forum.models import NotificationKind, OutboxMessage, User


def enqueue(user: User, kind: NotificationKind, subject: str, body: str) -> OutboxMessage:
    """Queue one email to this user about a notification of this kind."""
    message = OutboxMessage(
        user_id=user.id, to_address=user.email, subject=subject[:300], body=body
    )
    db.session.add(message)
    return message
