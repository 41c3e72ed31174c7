"""Rate-limit counters in the database (forum.limit_storage): the storage the
limits library uses when there is no Redis, on the suite's database."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from forum.extensions import counters, db, limiter
from forum.limit_storage import DatabaseStorage
from forum.models import RateCounter
from forum.services.accounts.recovery import RESET_MAILS
from tests.conftest import PASSWORD


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


def test_keys_longer_than_the_column_are_kept_by_digest(ctx):
    storage = DatabaseStorage()
    key = "LIMITER/reset-mail/" + "x" * 400
    assert [storage.incr(key, 60) for _ in range(2)] == [1, 2]
    assert storage.get(key) == 2 and storage.get(key + "y") == 0
    storage.clear(key)
    assert storage.get(key) == 0


def test_purges_running_beside_bumps_never_deadlock(ctx, monkeypatch):
    # Every bump also purges (one in 200 does in production): on PostgreSQL the
    # purge once shared the bump's transaction and two of them deadlocked.
    monkeypatch.setattr("forum.limit_storage.random.randrange", lambda n: 0)
    storage = DatabaseStorage()
    app = ctx
    errors = []

    def hit(worker):
        with app.app_context():
            for n in range(60):
                try:
                    storage.incr(f"k{(worker + n) % 7}", 1)
                except Exception as error:  # noqa: BLE001 - any failure fails the test
                    errors.append(error)

    workers = [threading.Thread(target=hit, args=(w,)) for w in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []


def test_a_storage_that_fails_fails_open_without_a_500(app_with, make, monkeypatch, caplog):
    app = app_with(FORUM_RATELIMIT="on")
    type(make)(app).user("alice")
    client = app.test_client()
    with app.app_context():
        storage = limiter.limiter.storage

        def broken(*args, **kwargs):
            raise OperationalError("UPDATE", {}, Exception("database is locked"))

        for name in ("incr", "get", "get_expiry", "clear"):
            monkeypatch.setattr(storage, name, broken)
    wrong = client.post("/api/v1/tokens", json={"username": "alice", "password": "nope"})
    assert wrong.status_code == 401
    right = client.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD})
    assert right.status_code == 201
    assert client.post("/auth/reset", data={"email": "alice@example.org"}).status_code == 302
    # Flask-Limiter moves to counting in memory; our own counters follow it, or
    # (before it has noticed) skip the count, logged either way.
    assert (
        "falling back to in-memory storage" in caplog.text
        or "rate-limit counters unavailable (OperationalError)" in caplog.text
    )


def test_the_forums_own_counters_fail_open_and_say_so(app_with, monkeypatch, caplog):
    app = app_with(FORUM_RATELIMIT="on")
    with app.test_request_context("/"):
        strategy = limiter.limiter

        def broken(*args, **kwargs):
            raise OperationalError("INSERT", {}, Exception("database is locked"))

        monkeypatch.setattr(strategy, "hit", broken)
        monkeypatch.setattr(strategy, "test", broken)
        assert counters.hit(RESET_MAILS, "reset-mail", "a@example.org") is True
        assert counters.test(RESET_MAILS, "reset-mail", "a@example.org") is True
    assert "rate-limit counters unavailable (OperationalError)" in caplog.text
