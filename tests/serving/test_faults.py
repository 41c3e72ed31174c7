"""Faults: a database that is unreachable, goes away, is locked or is full gets
a 503 with Retry-After (the contract's JSON under /api/, a page elsewhere) and
the app serves again as soon as it is back; a worker killed in the middle of a
request leaves nothing half-written.

The SQLite tests use a file of their own whatever the suite runs on; the
PostgreSQL ones need FORUM_TEST_DATABASE_URL and make a database of their own.
The worker-kill test runs on the suite's kind of database.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine, event, text

from forum import create_app
from forum.extensions import db
from tests.conftest import PASSWORD
from tests.live_server import Gunicorn, create_schema, is_postgres, live_config, scratch_database
from tests.live_server import seed as seed_database

postgres_only = pytest.mark.skipif(not is_postgres(), reason="needs PostgreSQL")

PATH = "/api/v1/threads/live-story/comments"
STATE = text(
    "SELECT (SELECT count(*) FROM comments), comment_count, version,"
    " (SELECT count(*) FROM idempotency_keys) FROM threads"
)


def make_app(url: str, **overrides):
    return create_app({**live_config(url), "TESTING": True, **overrides})


def state(url: str) -> tuple[int, int, int, int]:
    """(comment rows, thread.comment_count, thread.version, idempotency key rows)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(connection.execute(STATE).one())
    finally:
        engine.dispose()


def bearer_for(url: str) -> dict:
    """Seeds the article "live-story" and a reader; the reader's bearer header."""
    return {"Authorization": f"Bearer {seed_database(url)['reader0']}"}


def assert_unavailable(response, code="unavailable"):
    assert response.status_code == 503, response.data[:300]
    assert response.headers["Retry-After"].isdigit()
    if response.is_json:
        assert set(response.json) == {"error"}
        assert response.json["error"]["code"] == code
        assert response.json["error"]["message"]
    else:
        assert response.mimetype == "text/html"
        assert b"<h1>" in response.data


# -- unreachable -------------------------------------------------------------------


def test_an_unreachable_postgresql_is_a_503_not_a_500(caplog):
    pytest.importorskip("psycopg")
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2")
    client = app.test_client()
    with caplog.at_level(logging.WARNING):
        api = client.get("/api/v1/threads/a-story/comments")
        page = client.get("/articles/a-story")
        post = client.post(
            "/api/v1/threads/a-story/comments",
            json={"body": "hello"},
            headers={"Authorization": "Bearer fpt_" + "x" * 43},  # looked up: 503
        )
    assert_unavailable(api)
    assert api.headers["Retry-After"] == "5"
    assert "try again" in api.json["error"]["message"]
    assert_unavailable(page)
    assert b"Back in a moment" in page.data
    assert b'href="/articles/a-story">Try again' in page.data
    assert_unavailable(post)
    # One line per request, naming the trouble but no address, user or statement.
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("database ")]
    assert lines == [
        "database unreachable on GET /api/v1/threads/<key>/comments: psycopg.OperationalError",
        "database unreachable on GET /articles/<slug>: psycopg.OperationalError",
        "database unreachable on POST /api/v1/threads/<key>/comments: psycopg.OperationalError",
    ]


# -- gone and back -------------------------------------------------------------------


def test_sqlite_gone_and_back(tmp_path):
    """The database's directory disappears (an unmounted volume) and returns."""
    home = tmp_path / "data"
    home.mkdir()
    url = f"sqlite:///{home / 'forum.sqlite'}"
    create_schema(url)
    bearer = bearer_for(url)
    app = make_app(url)
    client = app.test_client()
    assert client.get("/api/v1/threads/live-story").status_code == 200

    home.rename(tmp_path / "away")
    with app.app_context():
        # An open SQLite file outlives its name: drop the pooled connections,
        # as a worker starting while the volume is away would have none.
        db.engine.dispose()
    assert_unavailable(client.get("/api/v1/threads/live-story"))
    assert_unavailable(client.get("/articles/live-story"))
    post = client.post(
        "/api/v1/threads/live-story/comments", json={"body": "into the void"}, headers=bearer
    )
    assert_unavailable(post)

    (tmp_path / "away").rename(home)
    started = time.monotonic()
    assert client.get("/api/v1/threads/live-story").status_code == 200
    back_after = time.monotonic() - started
    post = client.post(
        "/api/v1/threads/live-story/comments", json={"body": "back again"}, headers=bearer
    )
    assert post.status_code == 201
    assert state(url)[:2] == (1, 1)
    print(f"\nSQLite back: the first request after it returned took {back_after * 1000:.0f} ms")


def test_gunicorn_keeps_its_worker_while_the_database_is_away(tmp_path):
    """No crash loop: a worker started before its database exists answers 503s
    (the mail sender polling in the background, too) and serves once it is there."""
    url = f"sqlite:///{tmp_path / 'later' / 'forum.sqlite'}"
    config = {**live_config(url), "FORUM_MAIL_WORKER": "on", "FORUM_MAIL_INTERVAL": 0.2}
    with Gunicorn(config, tmp_path, workers=1) as server:
        (worker,) = server.workers()
        for _ in range(5):
            status, headers, data = server.request("GET", "/api/v1/threads/live-story")
            assert status == 503 and data["error"]["code"] == "unavailable"
            assert server.request("GET", "/articles/live-story")[0] == 503
            time.sleep(0.1)

        (tmp_path / "later").mkdir()
        create_schema(url)
        bearer = bearer_for(url)
        started = time.monotonic()
        assert server.request("GET", "/api/v1/threads/live-story")[0] == 200
        back_after = time.monotonic() - started
        post = server.request("POST", PATH, {"body": "Here now"}, bearer)
        assert post[0] == 201, post
        assert server.workers() == {worker}
        assert server.output().count("Booting worker") == 1
    print(f"\ngunicorn, database created late: served {back_after * 1000:.0f} ms after")


class PostgresFaults:
    """An app's own PostgreSQL database, and the superuser's levers on it."""

    def __init__(self, url: str):
        self.url = url + "?application_name=forum-faults"  # to find its connections
        self.name = url.rsplit("/", 1)[1]
        self.admin = create_engine(
            os.environ["FORUM_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT"
        )
        self.bearer = bearer_for(url)

        self.apps = []

    def app(self, **overrides):
        app = make_app(self.url, **overrides)
        self.apps.append(app)
        return app

    def close(self) -> None:
        self.allow_connections(True)
        for app in self.apps:
            with app.app_context():
                db.engine.dispose()
        self.admin.dispose()

    def sql(self, statement: str):
        with self.admin.connect() as connection:
            result = connection.execute(text(statement), {"name": self.name})
            return result.all() if result.returns_rows else []

    def terminate(self) -> int:
        """Kill the app's connections; returns how many there were."""
        return len(
            self.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND application_name = 'forum-faults'"
            )
        )

    def allow_connections(self, allowed: bool) -> None:
        self.sql(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS {str(allowed).lower()}')


@pytest.fixture
def pg(tmp_path):
    with scratch_database(tmp_path) as url:
        faults = PostgresFaults(url)
        try:
            yield faults
        finally:
            faults.close()


@postgres_only
def test_postgresql_connections_killed_under_the_pool(pg):
    """With pool_pre_ping (the default) the next request does not notice; without
    it, the one request that meets the dead connection is a 503, the next works."""
    client = pg.app().test_client()
    assert client.get("/api/v1/threads/live-story").status_code == 200
    assert pg.terminate() == 1
    assert client.get("/api/v1/threads/live-story").status_code == 200
    post = client.post(
        "/api/v1/threads/live-story/comments", json={"body": "still here"}, headers=pg.bearer
    )
    assert post.status_code == 201

    client = pg.app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False}).test_client()
    assert client.get("/api/v1/threads/live-story").status_code == 200
    pg.terminate()
    assert_unavailable(client.get("/api/v1/threads/live-story"))
    assert client.get("/api/v1/threads/live-story").status_code == 200


@postgres_only
def test_postgresql_gone_and_back(pg):
    """The database refuses connections for a while, then takes them again."""
    client = pg.app().test_client()
    assert client.get("/articles/live-story").status_code == 200

    pg.allow_connections(False)
    pg.terminate()
    assert_unavailable(client.get("/api/v1/threads/live-story"))
    assert_unavailable(client.get("/articles/live-story"))
    post = client.post(
        "/api/v1/threads/live-story/comments", json={"body": "lost?"}, headers=pg.bearer
    )
    assert_unavailable(post)

    pg.allow_connections(True)
    started = time.monotonic()
    assert client.get("/articles/live-story").status_code == 200
    back_after = time.monotonic() - started
    post = client.post(
        "/api/v1/threads/live-story/comments", json={"body": "found"}, headers=pg.bearer
    )
    assert post.status_code == 201
    assert state(pg.url)[:2] == (1, 1)
    print(f"\nPostgreSQL back: the first request after it returned took {back_after * 1000:.0f} ms")


# -- locked and full (SQLite) ----------------------------------------------------------


def sqlite_app(tmp_path, on_connect):
    """An app on its own seeded SQLite file; on_connect(dbapi_connection) runs on
    each of its new connections, after the app's own pragmas."""
    url = f"sqlite:///{tmp_path / 'forum.sqlite'}"
    create_schema(url)
    bearer = bearer_for(url)
    app = make_app(url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        event.listen(db.engine, "connect", lambda connection, record: on_connect(connection))
    return app, bearer, tmp_path / "forum.sqlite"


def test_sqlite_locked_longer_than_busy_timeout(tmp_path):
    # forum/__init__.py sets busy_timeout=5000 on every connection: 0.2 s here.
    app, bearer, path = sqlite_app(tmp_path, lambda c: c.execute("PRAGMA busy_timeout=200"))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    client = app.test_client()
    assert client.get("/api/v1/threads/live-story").status_code == 200
    before = state(url)

    login = client.post("/auth/login", data={"username": "reader0", "password": PASSWORD})
    assert login.status_code == 302
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in a long write
    try:
        post = client.post(
            "/api/v1/threads/live-story/comments",
            json={"body": "waiting"},
            headers={**bearer, "Idempotency-Key": "locked-1"},
        )
        assert_unavailable(post)
        assert post.json["error"]["message"].startswith("The forum is busy")
        # A form sent by thread.js hears it as JSON, to show beside the form.
        form = client.post(
            "/articles/live-story/comments",
            data={"body": "waiting", "idempotency_key": "locked-2"},
            headers={"X-Forum-Fragment": "1"},
        )
        assert_unavailable(form)
        assert client.get("/api/v1/threads/live-story").status_code == 200  # WAL: reads go on
    finally:
        holder.rollback()
        holder.close()
    assert state(url) == before
    again = client.post(
        "/api/v1/threads/live-story/comments",
        json={"body": "waiting"},
        headers={**bearer, "Idempotency-Key": "locked-1"},
    )
    assert again.status_code == 201


def test_sqlite_full_saves_nothing_and_keeps_serving_reads(tmp_path):
    full = threading.Event()

    def cap(connection):
        if full.is_set():  # the file may not grow by a single page
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            connection.execute(f"PRAGMA max_page_count={pages}")

    app, bearer, _ = sqlite_app(tmp_path, cap)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    client = app.test_client()
    login = client.post("/auth/login", data={"username": "reader0", "password": PASSWORD})
    assert login.status_code == 302
    full.set()
    with app.app_context():
        db.engine.dispose()  # new connections, capped
    before = state(url)

    big = "A long thought, written out at length. " * 250  # ~10 kB, and its HTML
    post = client.post(
        "/api/v1/threads/live-story/comments",
        json={"body": big},
        headers={**bearer, "Idempotency-Key": "full-1"},
    )
    assert_unavailable(post, code="storage_full")
    assert "nothing was saved" in post.json["error"]["message"]
    assert post.headers["Retry-After"] == "60"
    page = client.post(
        "/articles/live-story/comments", data={"body": big, "idempotency_key": "full-2"}
    )
    assert_unavailable(page)
    assert b"Storage full" in page.data and b"nothing was saved" in page.data

    assert state(url) == before
    with app.app_context():
        strays = db.session.execute(
            text(
                "SELECT (SELECT count(*) FROM notifications) + (SELECT count(*) FROM votes)"
                " + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM audit_log)"
            )
        ).scalar()
        db.session.remove()
    assert strays == 0
    assert client.get("/api/v1/threads/live-story/comments").status_code == 200
    assert client.get("/articles/live-story").status_code == 200


# -- a worker killed mid-request ---------------------------------------------------------


class Hook:
    """The external moderation hook, blocking until released; and the bell the
    pause trap in tests/gunicorn_app.py rings."""

    def __init__(self):
        self.called, self.paused, self.release = (threading.Event() for _ in range(3))
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/paused":
                    hook.paused.set()
                else:
                    hook.called.set()
                    hook.release.wait(15)
                with contextlib.suppress(OSError):  # the asker may be dead by now
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_worker_killed_mid_request_leaves_nothing_half_written(tmp_path):
    hook = Hook()
    with scratch_database(tmp_path) as url:
        bearer = bearer_for(url)
        config = live_config(url, hook_url=f"{hook.url}/hook", hook_secret="s")
        env = {"FORUM_TEST_PAUSE_URL": f"{hook.url}/paused"}
        try:
            with Gunicorn(config, tmp_path, workers=1, env=env) as server:
                before = state(url)

                def post(key):
                    return server.request(
                        "POST",
                        "/api/v1/threads/live-story/comments",
                        {"body": "Mid-flight"},
                        {**bearer, "Idempotency-Key": key},
                    )

                def kill_while(key, moment: threading.Event) -> float:
                    """Post, SIGKILL the worker at the moment; the respawn time."""
                    (worker,) = server.workers()
                    answer = {}

                    def send():
                        try:
                            answer["response"] = post(key)
                        except (OSError, ConnectionError) as error:
                            answer["error"] = error

                    sender = threading.Thread(target=send)
                    sender.start()
                    assert moment.wait(10), server.output()
                    os.kill(worker, signal.SIGKILL)
                    killed = time.monotonic()
                    sender.join(10)
                    assert "error" in answer, answer  # the client saw the connection drop
                    server.wait_until_serving()
                    assert server.workers() and worker not in server.workers()
                    return time.monotonic() - killed

                # 1. Killed while the moderation hook is asked (before any write).
                respawn_hook = kill_while("at-hook", hook.called)
                hook.release.set()
                assert state(url) == before
                # 2. Killed after the comment and the thread's count were written,
                # before the idempotency key and the commit.
                respawn_write = kill_while("pause-here", hook.paused)
                assert state(url) == before
                if is_postgres():
                    assert _no_open_transactions(url)

                # The replacement worker posts, and the first key was never used.
                status, headers, first = post("at-hook")
                assert status == 201, first
                status, headers, again = post("at-hook")
                assert status == 200 and headers["Idempotent-Replayed"] == "true"
                assert again["comment"]["id"] == first["comment"]["id"]
                rows, count, version, keys = state(url)
                assert (rows, count, keys) == (1, 1, 1) and version == before[2] + 1
        finally:
            hook.close()
    print(
        f"\nkilled mid-request: a new worker served {respawn_hook:.2f}s and "
        f"{respawn_write:.2f}s after the kill"
    )


def _no_open_transactions(url: str, wait: float = 5) -> bool:
    """The killed worker's PostgreSQL backend noticed and rolled back."""
    engine = create_engine(url)
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                stuck = connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                    )
                ).scalar()
            if not stuck:
                return True
            time.sleep(0.1)
        return False
    finally:
        engine.dispose()
