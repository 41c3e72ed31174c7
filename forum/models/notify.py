"""Notifications in the app, the outbox (emails and webhooks) and the
moderators' alerts waiting for their digest."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.columns import UTCDateTime, _enum, utcnow
from forum.models.enums import NotificationKind

if TYPE_CHECKING:  # for the annotations; SQLAlchemy finds the classes by name
    from forum.models.accounts import User
    from forum.models.discussion import Comment


class Notification(db.Model):
    """Something a reader should hear about, shown in-app (and by email if chosen)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_inbox", "user_id", "read_at", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    comment: Mapped[Comment | None] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


OUTBOX_EMAIL = "email"
OUTBOX_WEBHOOK = "webhook"


class OutboxMessage(db.Model):
    """An email (or a webhook call) waiting to be sent; written in the transaction
    that caused it, delivered afterwards with retries, so sending never blocks or
    fails a request."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The comment it tells about: if that is removed before sending, so is the email.
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # OUTBOX_EMAIL: to to_address.  OUTBOX_WEBHOOK: body (JSON) POSTed to target_url,
    # signed when it is sent (forum.services.notify.webhooks); to_address is "".
    channel: Mapped[str] = mapped_column(String(10), default=OUTBOX_EMAIL, server_default="email")
    target_url: Mapped[str | None] = mapped_column(String(2000))


class ModeratorAlert(db.Model):
    """One moderator is to hear that a comment waits (held by the rules, or hidden
    by readers' reports): written with the hold, then gathered into that
    moderator's next digest email (forum.services.notify.alerts), which sets
    queued_at.  Each row is claimed once, so nothing is told twice."""

    __tablename__ = "moderator_alerts"
    __table_args__ = (
        # Whose digests are due (unqueued rows by moderator, oldest first), and
        # the old queued rows to clear away.
        Index("ix_moderator_alerts_due", "queued_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    # "held" (pending), "spam", or "reported" (hidden by readers' reports).
    reason: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    comment: Mapped[Comment] = relationship()
