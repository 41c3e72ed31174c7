"""Databases for the posting runs: a fresh one per run, eight accounts, one thread;
and the row counts that prove no post was lost or stored twice."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path

from speedlib import dataset, isso_setup

CLIENTS = 8
THREAD = "bench-post"
PG_DATABASE = "bench_speed"  # never "test": the test suite's database
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DATABASE}"


def build_ours(url: str) -> list[str]:
    """Schema, CLIENTS long-standing accounts with a bearer token each, the
    article; returns the tokens."""
    from forum import create_app
    from forum.extensions import db
    from forum.models import utcnow
    from forum.services.accounts import accounts
    from forum.services.discussion import threads

    app = create_app(dataset.forum_overrides(url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        tokens = []
        for n in range(CLIENTS):
            user = accounts.register(f"poster{n}", f"poster{n}@example.org", dataset.PASSWORD)
            # Older than the new-account rule's window: regular readers posting.
            user.created_at = utcnow() - timedelta(days=400)
            tokens.append(accounts.issue_token(user, 24)[0])
        threads.save_article(THREAD, "Live: the finale, as it airs", "Post as it happens.")
        db.session.commit()
        db.engine.dispose()
    return tokens


def count_ours(url: str) -> tuple[int, int]:
    """(comments, distinct bodies)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT count(*), count(DISTINCT body) FROM comments"))
            return tuple(row.one())
    finally:
        engine.dispose()


def build_isso(python: Path, dbpath: Path) -> list[dict]:
    dbpath.unlink(missing_ok=True)
    isso_setup.load(python, Path("/dev/null"), dbpath, only="/" + THREAD)
    return [{"author": f"poster{n}"} for n in range(CLIENTS)]


def count_isso(dbpath: Path) -> tuple[int, int]:
    with sqlite3.connect(dbpath) as connection:
        return connection.execute("SELECT count(*), count(DISTINCT text) FROM comments").fetchone()


def fresh_postgres() -> str | None:
    """An empty bench_speed database; None (and why, printed) when PostgreSQL is not there."""
    quiet = {"capture_output": True, "text": True}
    args = ["-h", "127.0.0.1", "-U", "postgres"]
    try:
        dropped = subprocess.run(["dropdb", "--if-exists", *args, PG_DATABASE], **quiet)
        created = subprocess.run(["createdb", *args, PG_DATABASE], **quiet)
    except OSError as error:  # no client programs
        print(f"PostgreSQL unavailable: {error}")
        return None
    if dropped.returncode or created.returncode:
        print(f"PostgreSQL unavailable: {(dropped.stderr + created.stderr).strip()}")
        return None
    return PG_URL


def drop_postgres() -> None:
    args = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["dropdb", "--if-exists", *args, PG_DATABASE], capture_output=True, check=False)
