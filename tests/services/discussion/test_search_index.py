"""The full-text index as the migrations make it: comments written before the
migration are found after it, the index follows new comments at the head of the
migrations (a later migration that copies the comments table on SQLite would
lose the triggers), and create_all makes the same objects as the migration."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from forum import create_app
from forum.extensions import db
from forum.models import Comment, CommentStatus, Thread, utcnow
from forum.services.discussion import search

OLD = 900  # the ids of the comment and thread from before; clear of PostgreSQL's sequences


def _migrated_app(url):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})


def test_comments_before_the_migration_are_found_after_it(empty_database_url):
    app = _migrated_app(empty_database_url)
    with app.app_context():
        upgrade(revision="0014_locale")
        now = utcnow()
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO threads (id, key, title, status, comment_count, version,"
                    " created_at, allow_guests) VALUES (900, 'old', 'Old', 'open', 1, 0, :now, :t)"
                ),
                {"now": now, "t": True},
            )
            connection.execute(
                text(
                    "INSERT INTO comments (id, thread_id, depth, body, html, status, score,"
                    " upvotes, downvotes, rank, spoiler, featured, created_at, hold_reasons,"
                    " open_flags, revision, theory_title) VALUES (900, 900, 0, 'x',"
                    " '<p>An <em>old</em> Café comment</p>', 'approved', 0, 0, 0, 0, :f, :f,"
                    " :now, '[]', 0, 1, 'A theory')"
                ),
                {"now": now, "f": False},
            )
        upgrade()
        assert db.session.get(Comment, OLD).search_text == "a theory an old cafe comment"
        assert _found("cafe") == [OLD]
        assert _found("theory") == [OLD]

        # At the head of the migrations the index follows what is written.
        thread = db.session.get(Thread, OLD)
        db.session.add(
            Comment(
                thread=thread, body="y", html="<p>Newer words</p>", status=CommentStatus.APPROVED
            )  # fmt: skip
        )
        db.session.commit()
        assert len(_found("newer")) == 1
        old = db.session.get(Comment, OLD)
        old.html = "<p>Rewritten</p>"
        db.session.commit()
        assert _found("cafe") == []
        assert _found("rewritten") == [OLD]
        db.session.delete(old)
        db.session.commit()
        assert _found("rewritten") == []
        db.session.remove()
        db.engine.dispose()


def _found(words: str) -> list[int]:
    results = search.search_comments(search.parse(words))
    return [comment.id for comment in results.comments]


def test_create_all_makes_what_the_migration_makes(empty_database_url, database):
    """The tests' schema (create_all) and a migrated one hold the same search
    objects, statement for statement."""
    app = _migrated_app(empty_database_url)
    with app.app_context():
        upgrade()
        migrated = _search_objects()
        db.session.remove()
        db.engine.dispose()
    tests_app = _migrated_app(database)
    with tests_app.app_context():
        created = _search_objects()
        db.engine.dispose()
    assert migrated == created
    assert migrated  # there is something to compare


def _search_objects() -> list[tuple[str, str]]:
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes"
                    " WHERE indexname = 'ix_comments_search' AND schemaname = current_schema()"
                )
            )
            # The definition names its schema: keep what follows "ON".
            return [(name, definition.split(" USING ", 1)[1]) for name, definition in rows]
        rows = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE name LIKE 'comments_search%'"
                " AND sql IS NOT NULL ORDER BY name"
            )
        )
        return [(name, " ".join(sql.split())) for name, sql in rows]
