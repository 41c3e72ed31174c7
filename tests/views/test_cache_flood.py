"""Made-up query arguments make no new cached copies (security review, round
two, finding 3): 300 requests with invented cursors and tabs grew Redis by 50 MB,
and with an LRU Redis that evicted the sign-in throttle's counters.

Page copies go to FORUM_CACHE_REDIS_URL's Redis only (database 12 here; another
server in production), never to the Redis that holds the rate limits.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forum import create_app
from forum.extensions import db
from forum.services.discussion import cursors, threads
from tests.conftest import TEST_REDIS, _test_config, empty_redis

CACHE_URL = f"{TEST_REDIS}/12"
LIMITS_URL = f"{TEST_REDIS}/11"


@pytest.fixture
def copies(app_with, make):
    """(client, store): an app keeping page copies in Redis database 12, and a
    thread with one comment."""
    store = empty_redis(CACHE_URL)
    app = app_with(FORUM_CACHE_REDIS_URL=CACHE_URL, FORUM_BASE_URL="https://talk.example.org")
    with app.app_context():
        threads.save_article("flood", "Flood", "Text.")
        db.session.commit()
    writer = type(make)(app).user("writer")
    type(make)(app).comment(writer, "flood", "A comment.")
    yield app.test_client(), store
    store.flushdb()


def page_copies(store) -> int:
    return len(store.keys("forum:tp:*"))


def test_made_up_cursors_and_tabs_make_no_page_copies(copies):
    client, store = copies
    assert client.get("/articles/flood").status_code == 200
    assert client.get("/articles/flood?tab=theories&sort=top").status_code == 200
    baseline = page_copies(store)
    assert baseline == 2
    for n in range(40):
        forged = cursors.encode_cursor("oldest", 0, datetime(2020, 1, 1, tzinfo=UTC), n + 1)
        # A cursor that does not decode: to the first page's own address.
        bad = client.get(f"/articles/flood?cursor=junk{n}")
        assert bad.status_code == 302 and bad.headers["Location"] == "/articles/flood"
        # An unknown tab or order: a 400, built for its reader.
        assert client.get(f"/articles/flood?tab=t{n}").status_code == 400
        assert client.get(f"/articles/flood?sort=s{n}").status_code == 400
        # A cursor that decodes (anyone can make one): a page, never a copy.
        assert client.get(f"/articles/flood?cursor={forged}&sort=oldest").status_code == 200
        # Arguments outside the shared ones: the page, not a copy.
        assert client.get(f"/articles/flood?utm_source={n}").status_code == 200
    assert page_copies(store) == baseline


def test_the_api_shares_first_pages_only(copies):
    client, store = copies
    path = "/api/v1/threads/flood/comments"
    assert client.get(path).status_code == 200
    assert client.get(f"{path}?limit=1000").status_code == 200
    baseline = page_copies(store)
    assert baseline == 2
    forged = cursors.encode_cursor("oldest", 0, datetime(2020, 1, 1, tzinfo=UTC), 1)
    for n in range(1, 41):
        assert client.get(f"{path}?limit={n + 200}").status_code == 200
        assert client.get(f"{path}?cursor=junk{n}").status_code == 422
        assert client.get(f"{path}?cursor={forged}&limit={n}").status_code == 200
    # The same page asked for in other spellings is the one copy.
    assert client.get(f"{path}?sort=oldest&limit=50").status_code == 200
    assert page_copies(store) == baseline


def test_rate_limit_redis_holds_no_page_copies(app_with, make):
    limits = empty_redis(LIMITS_URL)
    app = app_with(FORUM_REDIS_URL=LIMITS_URL, FORUM_RATELIMIT="on")
    with app.app_context():
        threads.save_article("apart", "Apart", "Text.")
        db.session.commit()
    client = app.test_client()
    try:
        for _ in range(3):
            assert client.get("/articles/apart").status_code == 200
            assert client.get("/api/v1/threads/apart/comments").status_code == 200
        assert limits.keys("forum:tp:*") == []
    finally:
        limits.flushdb()


@pytest.mark.parametrize(
    "cache_url",
    [
        "redis://127.0.0.1:6379/11",
        "redis://127.0.0.1:6379/3",
        "redis://localhost/4",
        "redis://[::1]:6379/5",
    ],
)
def test_page_copies_may_not_share_the_limits_redis_server(database, cache_url):
    # Another database number on the same server shares its one memory bound.
    with pytest.raises(ValueError, match="another Redis server"):
        create_app(
            {
                **_test_config(database),
                "FORUM_BASE_URL": "https://talk.example.org",
                "FORUM_REDIS_URL": "redis://127.0.0.1:6379/11",  # only compared, never reached
                "FORUM_CACHE_REDIS_URL": cache_url,
            }
        )


def test_shared_page_copies_need_the_sites_address(database):
    # Without it a copy would carry whichever host (and port) asked first.
    with pytest.raises(ValueError, match="needs FORUM_BASE_URL"):
        create_app({**_test_config(database), "FORUM_CACHE_REDIS_URL": CACHE_URL})


def test_the_redirect_from_a_bad_cursor_keeps_only_known_arguments(copies):
    client, _ = copies
    answer = client.get("/articles/flood?cursor=zz&slug=x&endpoint=y&_scheme=https&tab=theories")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/articles/flood?tab=theories"
