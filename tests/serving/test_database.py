"""Database traps: SQLite pragmas, aware UTC times, foreign keys, one transaction."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import Comment, CommentStatus, Thread
from tests.conftest import token_for


def test_sqlite_connections_enforce_foreign_keys_and_wait(ctx):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite-only pragmas")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_times_come_back_aware_utc(make, reader, article):
    cid = make.comment(reader, "a-story", "when?")
    stored = make.get(Comment, cid)
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset().total_seconds() == 0


def test_a_comment_needs_a_real_thread(ctx):
    db.session.add(Comment(thread_id=424242, body="x", html="x", status=CommentStatus.APPROVED))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_failed_post_leaves_no_half_written_record(client, make, reader, article, app):
    """A validation failure after the thread was touched rolls everything back."""
    headers = {"Authorization": f"Bearer {token_for(client, 'alice')}"}
    response = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "fine", "theory_title": "x"},
        headers=headers,
    )
    assert response.status_code == 422
    with app.app_context():
        thread = db.session.scalars(db.select(Thread)).one()
        assert thread.comment_count == 0 and thread.version == 0
        assert db.session.scalars(db.select(Comment)).all() == []
