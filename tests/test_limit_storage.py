"""Rate-limit counters in the database (forum.limit_storage): the storage the
limits library uses when there is no Redis, on the suite's database."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from forum.extensions import db, limiter
from forum.limit_storage import DatabaseStorage
from forum.models import RateCounter


def test_without_redis_the_limits_live_in_the_database(app_with):
    app = app_with(FORUM_RATELIMIT="on")
    assert app.config["RATELIMIT_STORAGE_URI"] == "forum-database://"
    with app.app_context():
        assert isinstance(limiter.limiter.storage, DatabaseStorage)


def test_windows_count_expire_and_clear(ctx, monkeypatch):
    storage = DatabaseStorage()
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.incr("k", 60, amount=2) == 5
    assert storage.get("k") == 5 and storage.get("other") == 0
    expiry = storage.get_expiry("k")
    assert time.time() + 55 < expiry <= time.time() + 60
    # A minute later the window has run out: it reads as empty and starts again.
    real = time.time
    monkeypatch.setattr("forum.limit_storage.time.time", lambda: real() + 61)
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0
    storage.incr("a", 60)
    storage.incr("b", 60)
    assert storage.reset() == 2


def test_concurrent_hits_are_all_counted(ctx):
    storage = DatabaseStorage()
    app = ctx
    seen = []

    def hit():
        with app.app_context():
            for _ in range(10):
                seen.append(storage.incr("busy", 60))

    workers = [threading.Thread(target=hit) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(seen) == list(range(1, 41))  # every hit got its own number
    assert storage.get("busy") == 40


def test_run_out_windows_are_purged_now_and_then(ctx, monkeypatch):
    storage = DatabaseStorage()
    for n in range(5):
        storage.incr(f"old{n}", 1)
    real = time.time
    monkeypatch.setattr("forum.limit_storage.time.time", lambda: real() + 5)
    monkeypatch.setattr("forum.limit_storage.random.randrange", lambda n: 0)
    storage.incr("new", 60)
    assert db.session.scalar(select(func.count()).select_from(RateCounter)) == 1
