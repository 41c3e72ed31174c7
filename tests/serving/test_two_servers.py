"""Two app servers, one PostgreSQL database and one Redis: what a reader sees
through either server is the same, at once.

Servers A and B are separate gunicorn masters (two workers each) on their own
ports, configured the way an operator would: FORUM_DATABASE_URL names one
scratch PostgreSQL database, FORUM_REDIS_URL the Redis that holds rate limits
and caches (database 14 here, emptied first; test_shared_limits uses 15),
FORUM_RATELIMIT=on.  Every request is real HTTP.  A write through A must show
through B on B's very next request, however warm B's caches are; a thread's
ETag must move with it; a rate limit filled through A must hold on B.

The database is PostgreSQL in both passes (`make test` and `make test-postgres`)
because the point is a server database shared by two hosts: the one
FORUM_TEST_DATABASE_URL names when that is PostgreSQL, else postgres@127.0.0.1.
It runs in both passes because it does not depend on the suite's database and
costs a few seconds; running the file alone needs no variables.  Without
PostgreSQL or Redis the module is skipped, except under CI=true.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.conftest import TEST_REDIS
from tests.live_server import Gunicorn, create_schema, is_postgres, live_config, seed

REDIS_URL = f"{TEST_REDIS}/14"
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SLUG = "live-story"
COMMENTS = f"/api/v1/threads/{SLUG}/comments"
PAGE = f"/articles/{SLUG}"
PASSWORD = "correct horse battery"  # what seed() gives every account
WARM_READS = 4  # enough for both of B's workers to have served (and cached) the thread
# Every request comes from 127.0.0.1, so the per-address budgets (30 posts and 20
# failed sign-ins a minute) are the whole module's: it spends about 16 and 5.
# The per-account posting budget (10 a minute) is the budget test's own: its reader
# posts nowhere else, and the other tests' readers post at most three times.


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: refusing to skip)", pytrace=False)
    pytest.skip(reason)


def _maintenance_url():
    """The server's own `postgres` database: scratch databases are made from it."""
    suite = os.environ.get("FORUM_TEST_DATABASE_URL", "")
    return make_url(suite).set(database="postgres") if is_postgres() else make_url(DEFAULT_SERVER)


@pytest.fixture(scope="module")
def shared_database():
    """(URL, {username: bearer token}): a scratch PostgreSQL database with the
    schema, an article and reader0..reader3 and mod0; Redis emptied around it."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
    except redis.RedisError as error:
        _unavailable(f"no Redis at {REDIS_URL}: {error}")
    admin = create_engine(
        _maintenance_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2}
    )
    name = f"forum_two_servers_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        _unavailable(f"no PostgreSQL at {_maintenance_url()!r}: {error.orig}")
    try:
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        create_schema(url)
        yield url, seed(url, readers=4, moderators=1, slug=SLUG)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture(scope="module")
def tokens(shared_database) -> dict[str, str]:
    return shared_database[1]


@pytest.fixture(scope="module")
def servers(shared_database, tmp_path_factory):
    """(A, B): two gunicorn servers, two workers each, over the one database."""
    url, _ = shared_database
    # The documented variables choose the database, Redis and limits, as in
    # production; live_config() keeps the cheap hashing and the quiet mailer.
    config = live_config(url)
    del config["SQLALCHEMY_DATABASE_URI"], config["FORUM_RATELIMIT"]
    env = {"FORUM_DATABASE_URL": url, "FORUM_REDIS_URL": REDIS_URL, "FORUM_RATELIMIT": "on"}
    logs = tmp_path_factory.mktemp("two-servers")
    # Both boot at once, then each is waited for; both stop whatever happens.
    pair = [Gunicorn(config, logs, workers=2, env=env) for _ in range(2)]
    try:
        for server in pair:
            server.wait_until_serving()
        yield tuple(pair)
        for server in pair:
            assert "Traceback" not in server.output(), server.output()[-3000:]
    finally:
        for server in pair:
            server.stop()


# -- requests ----------------------------------------------------------------


def call(server, method, path, body=None, token=None, headers=None):
    """(status, headers with lower-case names, JSON or text); a 5xx fails with the log."""
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    status, received, data = server.request(method, path, body, sent)
    assert status < 500, f"{method} {path} -> {status}\n{server.output()[-3000:]}"
    return status, {k.lower(): v for k, v in received.items()}, data


def post(server, token, body) -> dict:
    status, _, data = call(server, "POST", COMMENTS, {"body": body}, token)
    assert status == 201, data
    assert data["comment"]["status"] == "approved"
    return data["comment"]


def read(server, etag=None):
    """An anonymous reader's GET of the thread: (status, ETag or None, JSON)."""
    headers = {"If-None-Match": etag} if etag else None
    status, received, data = call(server, "GET", COMMENTS, headers=headers)
    return status, received.get("etag"), data


def shown(data) -> dict[int, str]:
    """Comment id -> html, of every comment in the listing (replies too)."""
    found, stack = {}, list(data["comments"])
    while stack:
        comment = stack.pop()
        found[comment["id"]] = comment["html"]
        stack.extend(comment["replies"])
    return found


def page(server) -> str:
    status, _, html = call(server, "GET", PAGE)
    assert status == 200
    return html


def warm(server) -> tuple[str | None, dict]:
    """Read the thread through server until its caches are warm; the ETag it gave
    (None if it gave none) and the listing, which every read must agree on."""
    answers = [read(server) for _ in range(WARM_READS)]
    assert all(status == 200 for status, _, _ in answers)
    assert len({etag for _, etag, _ in answers}) == 1, "one thread version, one ETag"
    assert all(data == answers[0][2] for _, _, data in answers)
    return answers[0][1], answers[0][2]


def assert_etag_moved(servers, old_etag, fresh_data) -> None:
    """Server B answers the old ETag with the new listing; the new ETag is then
    current on both servers (304)."""
    a, b = servers
    assert old_etag and not old_etag.startswith("W/"), f"B gave no strong ETag: {old_etag!r}"
    status, new_etag, data = read(b, old_etag)
    assert status == 200, "B answered a stale ETag with 304: the reader keeps old comments"
    assert data == fresh_data
    assert new_etag and new_etag != old_etag
    for server in (b, a):
        status, etag, data = read(server, new_etag)
        assert (status, etag, data) == (304, new_etag, ""), f"port {server.port}"


# -- the tests ---------------------------------------------------------------


def test_a_comment_posted_through_one_server_is_on_the_other_at_once(servers, tokens):
    a, b = servers
    _, before = warm(b)
    page(b)
    words = f"Posted through A, read through B {uuid.uuid4().hex[:8]}"
    comment = post(a, tokens["reader0"], words)

    status, _, data = read(b)
    assert status == 200
    assert words in shown(data).get(comment["id"], ""), "B does not show A's new comment"
    assert data["thread"]["comment_count"] == before["thread"]["comment_count"] + 1
    html = page(b)
    assert f'id="c{comment["id"]}"' in html and words in html
    _, _, counts = call(b, "GET", f"/api/v1/counts?keys={SLUG}")
    assert counts["counts"][SLUG] == data["thread"]["comment_count"]


def test_a_new_comment_moves_the_etag_on_both_servers(servers, tokens):
    a, b = servers
    old_etag, _ = warm(b)
    warm(a)
    comment = post(a, tokens["reader0"], f"A newer comment {uuid.uuid4().hex[:8]}")

    status, _, fresh = read(b)
    assert status == 200
    assert comment["id"] in shown(fresh), "B does not show A's new comment"
    assert_etag_moved(servers, old_etag, fresh)


def test_an_edit_through_one_server_shows_on_the_other(servers, tokens):
    a, b = servers
    token = tokens["reader1"]
    before = f"Before the edit {uuid.uuid4().hex[:8]}"
    comment = post(a, token, before)
    old_etag, listing = warm(b)
    assert before in shown(listing).get(comment["id"], "")
    for _ in range(WARM_READS):
        assert before in page(b)

    after = f"After the edit {uuid.uuid4().hex[:8]}"
    status, _, data = call(a, "PATCH", f"/api/v1/comments/{comment['id']}", {"body": after}, token)
    assert status == 200, data

    status, _, fresh = read(b)
    assert status == 200
    html = shown(fresh).get(comment["id"], "")
    assert after in html and before not in html, f"B shows {html!r}, not the edit"
    html = page(b)
    assert after in html and before not in html
    assert_etag_moved(servers, old_etag, fresh)


def test_a_deletion_through_one_server_shows_on_the_other(servers, tokens):
    a, b = servers
    token = tokens["reader1"]
    words = f"Soon deleted {uuid.uuid4().hex[:8]}"
    comment = post(a, token, words)
    old_etag, listing = warm(b)
    assert comment["id"] in shown(listing)
    assert words in page(b)

    status, _, _ = call(a, "DELETE", f"/api/v1/comments/{comment['id']}", token=token)
    assert status == 204

    status, _, fresh = read(b)
    assert status == 200
    assert comment["id"] not in shown(fresh), "B still shows the comment A deleted"
    assert fresh["thread"]["comment_count"] == listing["thread"]["comment_count"] - 1
    html = page(b)
    assert f'id="c{comment["id"]}"' not in html and words not in html
    assert_etag_moved(servers, old_etag, fresh)


def test_a_comment_a_moderator_rejects_through_one_server_leaves_the_other(servers, tokens):
    a, b = servers
    words = f"Soon rejected {uuid.uuid4().hex[:8]}"
    comment = post(a, tokens["reader1"], words)
    old_etag, listing = warm(b)
    assert comment["id"] in shown(listing)
    assert words in page(b)

    status, _, data = call(
        a,
        "POST",
        f"/api/v1/moderation/comments/{comment['id']}",
        {"action": "reject", "reason": "Off topic."},
        tokens["mod0"],
    )
    assert status == 200 and data["comment"]["status"] == "rejected", data

    status, _, fresh = read(b)
    assert status == 200
    assert comment["id"] not in shown(fresh), "B still shows the comment A's moderator rejected"
    assert fresh["thread"]["comment_count"] == listing["thread"]["comment_count"] - 1
    html = page(b)
    assert f'id="c{comment["id"]}"' not in html and words not in html
    assert_etag_moved(servers, old_etag, fresh)


def test_failed_sign_ins_through_one_server_hold_on_the_other(servers):
    a, b = servers
    # A browser behind a load balancer: its session cookie and CSRF token come
    # from A, and B, with the same secret key, takes them too.
    status, headers, data = call(a, "GET", "/api/v1/session")
    assert status == 200
    browser = {"Cookie": headers["set-cookie"].split(";", 1)[0], "X-CSRFToken": data["csrf_token"]}
    for _ in range(5):  # the per-name budget: 5 failures a minute
        wrong = {"username": "reader2", "password": "not it"}
        status, _, data = call(a, "POST", "/api/v1/session", wrong, headers=browser)
        assert status == 401, data
    right = {"username": "reader2", "password": PASSWORD}
    status, headers, data = call(b, "POST", "/api/v1/session", right, headers=browser)
    assert status == 429 and data["error"]["code"] == "rate_limited", data
    assert int(headers["retry-after"]) > 0


def test_the_posting_budget_is_shared_by_both_servers(servers, tokens):
    a, b = servers
    token = tokens["reader3"]
    statuses = []
    for n in range(10):  # 10 a minute per account, spent through both servers
        status, _, data = call(a if n % 2 else b, "POST", COMMENTS, {"body": f"Post {n}"}, token)
        statuses.append(status)
    status, headers, data = call(b, "POST", COMMENTS, {"body": "One too many"}, token)
    assert statuses == [201] * 10
    assert status == 429 and data["error"]["code"] == "rate_limited", data
    assert int(headers["retry-after"]) > 0
