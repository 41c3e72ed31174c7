"""Fixtures: an app with an empty database per test, clients, and factories.

FORUM_TEST_DATABASE_URL picks the database (default: a fresh SQLite file).  The
schema is created once per run; each test starts from empty tables.

Layout, by what a file tests (no __init__.py anywhere: every test file's name is
unique in the tree, and shared helpers are imported as tests.conftest,
tests.live_server or, in tests/browser/, browser_support):
    unit/                 pure functions: markup, spoilers, permission tables
    services/<domain>/    discussion, moderation, accounts, notify, ops (backup,
                          imports, demo, migrations): the verbs, through the
                          services, the CLI or the pages that front them
    views/                pages, the JSON API, embedding, feeds, CSRF, hosts, caching
    serving/              real servers and databases: gunicorn, faults, concurrency,
                          limits shared between workers and hosts, SQLite's traps
    browser/              Chromium through Playwright (its own conftest.py)

Parallel runs (pytest-xdist, `-n 2 --dist loadfile`, as `make test` does): every
worker has a database of its own.  On SQLite that is a file under the worker's
own tmp_path_factory directory; on PostgreSQL, FORUM_TEST_DATABASE_URL's database
with the worker's id appended (test -> test_gw0, test_gw1), created on the same
server when missing and kept for the next run (the session empties it first).
pytest_configure() below points FORUM_TEST_DATABASE_URL at it in the worker, so
everything that reads the variable (tests/live_server.py's scratch databases,
the fault tests' superuser, the migration tests' schema) stays on the worker's
own database.  Scratch databases get random names, so workers never share one.

Redis: the tests that need one use TEST_REDIS (FORUM_TEST_REDIS, default
127.0.0.1:6379) with a fixed database number each, and each number belongs to one
test file, so that --dist loadfile (one file, one worker) never runs two users of
a number at once.  Keep it so when adding one:
    11  test_cache_flood.py (rate limits)     12  test_cache_flood.py (cache)
    13  test_thread_cache.py                  14  test_two_servers.py
    15  test_shared_limits.py
Two runs of the suite at once on one machine need two Redis servers (or
FORUM_TEST_REDIS pointing at another).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from forum import create_app
from forum.extensions import db
from forum.models import Comment, CommentStatus, Role, User, utcnow
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads, votes

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent  # the repository
TEST_DATA = ROOT / "tests" / "data"  # files the tests read (the XSS corpus)
# The Redis server the tests of shared limits and caches use (databases 11 to 15,
# one file each: see the module's docstring): FORUM_TEST_REDIS picks another, so
# that two runs on one machine stay apart.
TEST_REDIS = (os.environ.get("FORUM_TEST_REDIS") or "redis://127.0.0.1:6379").rstrip("/")
_serial = itertools.count(1)


def pytest_configure(config) -> None:
    """In a pytest-xdist worker on PostgreSQL: the worker's own database.  Before
    any worker starts: the translations compiled, as `make test` does (so a bare
    `pytest` after editing a catalog tests what it says)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        stale = [
            po
            for po in (ROOT / "forum" / "translations").glob("*/LC_MESSAGES/messages.po")
            if not po.with_suffix(".mo").exists()
            or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
        ]
        if stale:
            subprocess.run(["make", "-s", "catalogs"], cwd=ROOT, check=True, capture_output=True)
    url = os.environ.get("FORUM_TEST_DATABASE_URL", "")
    if worker and url.startswith("postgresql"):
        os.environ["FORUM_TEST_DATABASE_URL"] = worker_database(url, worker)


def worker_database(url: str, worker: str) -> str:
    """The URL of url's database with _<worker> appended, created if missing."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    # Made from the suite's own database: it exists, and the user may create others.
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not found:
                # Another run may make it at the same moment: then it is there.
                with contextlib.suppress(ProgrammingError):
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("FORUM_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    url = database_url(tmp_path_factory)
    app = create_app(_test_config(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    return url


def _test_config(url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test secret",
        "WTF_CSRF_ENABLED": False,
        "FORUM_RATELIMIT": "off",
        # Cheap hashing: these tests are about behaviour, not Argon2's cost.
        "FORUM_ARGON2_TIME_COST": 1,
        "FORUM_ARGON2_MEMORY_KIB": 1024,
        # Fresh accounts post freely here; tests of the new-account rule turn it back on.
        "FORUM_SETTINGS_DEFAULTS": {"new_account_comments": 10**4},
    }


@pytest.fixture
def app(database):
    app = create_app(_test_config(database))
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def empty_database_url(tmp_path, database):
    """A database with no tables, for migrations: a SQLite file, or on PostgreSQL a
    schema of its own, dropped afterwards."""
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_test CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_test"))
    separator = "&" if "?" in database else "?"
    yield f"{database}{separator}options=-csearch_path%3Dmigration_test"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_test CASCADE"))
    engine.dispose()


@pytest.fixture
def app_with(database):
    """Builds apps with config overrides on the test database, cleaned up after."""
    made = []

    def build(**overrides):
        app = create_app({**_test_config(database), **overrides})
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for service-level tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- factories -------------------------------------------------------------------
# Each opens its own app context and commits, so tests can mix them with client calls.


class Factory:
    def __init__(self, app):
        self.app = app

    def user(self, username=None, role: Role = Role.READER, password=PASSWORD) -> User:
        n = next(_serial)
        username = username or f"reader{n}"
        with self.app.app_context():
            user = accounts.register(username, f"{username.lower()}@example.org", password, role)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    def article(self, slug=None, title="An article", **kwargs):
        slug = slug or f"article-{next(_serial)}"
        with self.app.app_context():
            threads.save_article(slug, title, "Some **body** text.", **kwargs)
            db.session.commit()
            return slug

    def comment(self, author: User, slug: str, body=None, parent_id=None, age=None, **kwargs):
        """Post through the real service; returns the comment id."""
        with self.app.app_context():
            thread = threads.thread_by_key(slug)
            user = db.session.get(User, author.id)
            parent = db.session.get(Comment, parent_id) if parent_id else None
            comment = comments.post_comment(
                user, thread, body or f"Comment number {next(_serial)}", parent=parent, **kwargs
            )
            if age is not None:
                comment.created_at = utcnow() - age
            db.session.commit()
            return comment.id

    def vote(self, voter: User, comment_id: int, value: int) -> None:
        with self.app.app_context():
            votes.vote(db.session.get(User, voter.id), db.session.get(Comment, comment_id), value)
            db.session.commit()

    def get(self, model, ident):
        with self.app.app_context():
            obj = db.session.get(model, ident)
            if obj is not None:
                db.session.refresh(obj)
                db.session.expunge(obj)
            return obj

    def set_status(self, comment_id, status: CommentStatus):
        with self.app.app_context():
            db.session.get(Comment, comment_id).status = status
            db.session.commit()


@pytest.fixture
def make(app) -> Factory:
    return Factory(app)


# -- signed-in clients -------------------------------------------------------------


class AuthActions:
    """Signs in through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD):
        return self.client.post("/auth/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def reader(make):
    return make.user("alice")


@pytest.fixture
def moderator(make):
    return make.user("mona", role=Role.MODERATOR)


@pytest.fixture
def reader_client(app, reader):
    client = app.test_client()
    AuthActions(client).login("alice")
    return client


@pytest.fixture
def moderator_client(app, moderator):
    client = app.test_client()
    AuthActions(client).login("mona")
    return client


@pytest.fixture
def article(make):
    return make.article("a-story", "A story")


@contextlib.contextmanager
def count_statements(app):
    """Collects every SQL statement the app's engine runs inside the block."""
    seen = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def token_for(client, username, password=PASSWORD) -> str:
    """A bearer token, through the real API."""
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.json
    return response.json["token"]


def empty_redis(url: str):
    """A client of the Redis database at url, emptied first; the test is skipped
    without Redis, except under CI=true (where .ci/run starts it)."""
    redis = pytest.importorskip("redis")
    try:
        store = redis.Redis.from_url(url, socket_connect_timeout=1)
        store.flushdb()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is needed here: {error}")
        pytest.skip(f"no Redis at {url}: {error}")
    return store


def allowed_origins() -> list[str]:
    """The origins the admin page lists as allowed to embed, sorted (in an app context)."""
    from forum.services.discussion import sites

    return sorted(row["origin"] for row in sites.overview() if row["allowed"])
