"""Bookkeeping: idempotency keys, what an import created, rate-limit counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Double,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.columns import UTCDateTime, utcnow


class IdempotencyKey(db.Model):
    """A client's key for one submission (a form's hidden field or the
    Idempotency-Key header): the same key again gets the first answer, not a
    second comment."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Indexed alone too: a guest's retry is found by its key (forum.services.accounts.guests).
    key: Mapped[str] = mapped_column(String(100), index=True)
    # What the first request made (a comment), to answer repeats with it.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ImportRecord(db.Model):
    """What an import created for one item of a foreign archive, so that running
    the same import again finds it instead of duplicating it."""

    __tablename__ = "import_records"
    __table_args__ = (UniqueConstraint("source", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # "disqus", "isso"
    kind: Mapped[str] = mapped_column(String(20))  # "thread", "comment", "author"
    external_id: Mapped[str] = mapped_column(String(255))
    local_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateCounter(db.Model):
    """One rate-limit window's count (forum.limit_storage), where every worker
    and host sees it when there is no Redis.  The expiry is in epoch seconds,
    as the limits library speaks it, not a datetime."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[float] = mapped_column(Double, nullable=False, index=True)
