"""Links and challenges that work once: the first use records its id in
spent_tokens; a second use of the same id finds it there and is refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import SpentToken, utcnow

FORGET_EVERY = 50


def is_spent(purpose: str, jti: str) -> bool:
    return (
        db.session.scalar(
            select(SpentToken.id).where(SpentToken.purpose == purpose, SpentToken.jti == jti)
        )
        is not None
    )


def spend(purpose: str, jti: str, expires_at: datetime) -> bool:
    """Record the use of `jti` for `purpose`; False if it was used before.

    Kept until `expires_at` (after which the signed token is refused anyway).
    The unique key settles two requests racing with the same token: one insert
    wins, the other's savepoint rolls back and it is told False.
    """
    if is_spent(purpose, jti):
        return False
    record = SpentToken(purpose=purpose, jti=jti[:64], expires_at=expires_at)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return False
    if record.id % FORGET_EVERY == 0:  # now and then, the records past their use go
        forget_expired()
    return True


def forget_expired(now: datetime | None = None) -> int:
    """Drop the records of tokens past their lifetime; how many went."""
    result = db.session.execute(delete(SpentToken).where(SpentToken.expires_at < (now or utcnow())))
    return result.rowcount or 0
