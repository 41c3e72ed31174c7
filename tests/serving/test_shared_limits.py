"""With FORUM_REDIS_URL, rate limits and the wait after failed sign-ins are
shared by every process: two app instances here stand for two workers or hosts.

Needs the Redis at 127.0.0.1:6379 (.ci/run starts it); it uses database 15 and
empties it first. Without Redis the module is skipped, except under CI=true.
"""

from __future__ import annotations

import os

import pytest
import redis
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import RateCounter
from forum.services.accounts import accounts
from forum.services.discussion import threads
from tests.conftest import PASSWORD, TEST_REDIS

REDIS_URL = f"{TEST_REDIS}/15"


@pytest.fixture
def pair(app_with):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is needed here: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    first = app_with(FORUM_REDIS_URL=REDIS_URL, FORUM_RATELIMIT="on")
    second = app_with(FORUM_REDIS_URL=REDIS_URL, FORUM_RATELIMIT="on")
    with first.app_context():
        accounts.register("alice", "alice@example.org", PASSWORD)
        threads.save_article("a-story", "A story", "Text.")
        db.session.commit()
    yield first, second
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_failed_sign_ins_on_one_process_hold_on_the_other(pair):
    first, second = pair
    for _ in range(5):
        wrong = first.test_client().post(
            "/api/v1/session", json={"username": "alice", "password": "not the password"}
        )
        assert wrong.status_code == 401
    held = second.test_client().post(
        "/api/v1/session", json={"username": "alice", "password": PASSWORD}
    )
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0


def test_the_posting_budget_is_shared(pair):
    first, second = pair
    token = (
        first.test_client()
        .post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD})
        .json["token"]
    )
    statuses = [
        (first if n % 2 else second)
        .test_client()
        .post(
            "/api/v1/threads/a-story/comments",
            json={"body": f"Comment {n}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        .status_code
        for n in range(11)
    ]
    assert statuses == [201] * 10 + [429]


def test_limits_hold_in_memory_while_redis_is_down(app_with, caplog):
    # Nothing listens on port 1: the limiter falls back to counting in this process.
    app = app_with(FORUM_REDIS_URL="redis://127.0.0.1:1/0", FORUM_RATELIMIT="on")
    with app.app_context():
        accounts.register("alice", "alice@example.org", PASSWORD)
        db.session.commit()
    client = app.test_client()
    statuses = [
        client.post(
            "/api/v1/session", json={"username": "alice", "password": "not the password"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    assert "falling back to in-memory storage" in caplog.text


def test_a_new_app_counts_in_its_own_storage_after_another_apps_went_down(app_with):
    # One Limiter serves every app a process makes. When one app's Redis is down,
    # the limiter counts in memory; an app made afterwards (here on the database)
    # must count in its own storage from its first request, not in that stand-in
    # until a later health check switches over mid-window (and forgets the count).
    down = app_with(FORUM_REDIS_URL="redis://127.0.0.1:1/0", FORUM_RATELIMIT="on")
    assert down.test_client().post("/api/v1/session", json={}).status_code == 401
    app = app_with(FORUM_RATELIMIT="on")
    with app.app_context():
        accounts.register("alice", "alice@example.org", PASSWORD)
        db.session.commit()
    client = app.test_client()
    assert client.post("/api/v1/session", json={"username": "alice"}).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RateCounter)) > 0
