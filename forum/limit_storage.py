"""Rate-limit counters in the forum's own database, for when there is no Redis.

The limits library (behind Flask-Limiter and forum.services.accounts.throttle) keeps its
counters in memory by default: each process its own, so four gunicorn workers
allowed four times the documented attempts.  Registered under the scheme
`forum-database://`, this storage keeps each fixed window as one row of
`rate_counters` that every worker and host reads and bumps atomically (an
INSERT ... ON CONFLICT DO UPDATE ... RETURNING; SQLite and PostgreSQL, the
databases the forum is tested on: forum.config keeps other databases in memory).

Each call runs on a connection of its own and commits at once: a hit counts
even when the request that made it rolls back (a failed sign-in writes nothing
else), and it never joins the request's transaction.  Callers count before the
request's first write, so on SQLite the two never wait for each other.
"""

from __future__ import annotations

import hashlib
import random
import time

from limits.storage import Storage
from sqlalchemy import case, delete, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from forum.extensions import db
from forum.models import RateCounter

SCHEME = "forum-database"
_TABLE = RateCounter.__table__
# One bump in this many also deletes (up to a batch of) windows that ran out.
_PURGE_ONE_IN = 200
_PURGE_BATCH = 500
# Longer keys are stored by their digest (the column holds 255 characters).
KEY_MAX = 200
# The databases whose INSERT can bump a row that exists (forum.config asks).
_UPSERT = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
DIALECTS = tuple(_UPSERT)


class DatabaseStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        key = _stored_key(key)
        now = time.time()
        with db.engine.begin() as connection:
            insert = _UPSERT[connection.dialect.name]
            count = connection.execute(_upsert(insert, key, now, expiry, amount)).scalar_one()
        if random.randrange(_PURGE_ONE_IN) == 0:
            _purge(now)
        return count

    def get(self, key: str) -> int:
        key = _stored_key(key)
        with db.engine.connect() as connection:
            count = connection.scalar(
                select(_TABLE.c.count).where(_TABLE.c.key == key, _live(time.time()))
            )
        return count or 0

    def get_expiry(self, key: str) -> float:
        key = _stored_key(key)
        now = time.time()
        with db.engine.connect() as connection:
            expires = connection.scalar(
                select(_TABLE.c.expires_at).where(_TABLE.c.key == key, _live(now))
            )
        return expires if expires is not None else now

    def check(self) -> bool:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with db.engine.begin() as connection:
            return connection.execute(delete(_TABLE)).rowcount

    def clear(self, key: str) -> None:
        key = _stored_key(key)
        with db.engine.begin() as connection:
            connection.execute(delete(_TABLE).where(_TABLE.c.key == key))


def _stored_key(key: str) -> str:
    """The key as a row holds it: a long one (an address of 254 characters, say)
    by its digest, so it always fits the column."""
    if len(key) <= KEY_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _purge(now: float) -> None:
    """Delete windows that ran out, a bounded batch, in a transaction of its own
    after the bump (in the bump's, two purges could each wait on a row the other
    had just bumped: a deadlock on PostgreSQL). Rows another purge or bump has
    locked are skipped."""
    with db.engine.begin() as connection:
        stale = select(_TABLE.c.key).where(_TABLE.c.expires_at <= now).limit(_PURGE_BATCH)
        if connection.dialect.name == "postgresql":
            stale = stale.with_for_update(skip_locked=True)
        connection.execute(delete(_TABLE).where(_TABLE.c.key.in_(stale.scalar_subquery())))


def _live(now: float):
    return _TABLE.c.expires_at > now


def _upsert(insert, key: str, now: float, expiry: int, amount: int):
    """One statement: a new window, the next hit of a live one, or a fresh start
    for one that ran out."""
    expired = _TABLE.c.expires_at <= now
    statement = insert(_TABLE).values(key=key, count=amount, expires_at=now + expiry)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={
            "count": case((expired, amount), else_=_TABLE.c.count + amount),
            "expires_at": case((expired, now + expiry), else_=_TABLE.c.expires_at),
        },
    ).returning(_TABLE.c.count)
