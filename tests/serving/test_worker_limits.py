"""The documented limits hold however many workers serve, without Redis.

Four gunicorn workers over the suite's kind of database and no FORUM_REDIS_URL:
each worker used to count in its own memory, so four of them allowed four times
the documented attempts (security review, round two). The counters now live in
the database (forum.limit_storage) and every worker bumps the same rows.
"""

from __future__ import annotations

import os

import pytest

from tests.live_server import PASSWORD, Gunicorn, live_config, scratch_database, seed

WORKERS = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worker-limits")
    env = {key: value for key, value in os.environ.items() if key != "FORUM_REDIS_URL"}
    with scratch_database(tmp) as url:
        tokens = seed(url, readers=2)
        config = {**live_config(url), "FORUM_RATELIMIT": "on"}
        with Gunicorn(config, tmp, workers=WORKERS, env=env) as gunicorn:
            assert len(gunicorn.workers()) == WORKERS
            yield gunicorn, tokens
            assert "Traceback" not in gunicorn.output(), gunicorn.output()[-3000:]


def test_failed_sign_ins_are_counted_across_workers(server):
    gunicorn, _ = server
    statuses = [
        gunicorn.request("POST", "/api/v1/tokens", {"username": "reader0", "password": "nope"})[0]
        for _ in range(3 * WORKERS)
    ]
    # Five failures at this address, then the wait: four workers do not make it twenty.
    assert statuses == [401] * 5 + [429] * (3 * WORKERS - 5)
    held = gunicorn.request("POST", "/api/v1/tokens", {"username": "reader0", "password": PASSWORD})
    assert held[0] == 429 and int(held[1]["Retry-After"]) > 0


def test_the_posting_budget_is_one_budget_across_workers(server):
    gunicorn, tokens = server
    headers = {"Authorization": f"Bearer {tokens['reader1']}"}
    statuses = [
        gunicorn.request(
            "POST", "/api/v1/threads/live-story/comments", {"body": f"Take {n}"}, headers
        )[0]
        for n in range(2 * WORKERS + 6)
    ]
    assert statuses == [201] * 10 + [429] * (2 * WORKERS - 4)
