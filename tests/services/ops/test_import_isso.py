"""flask import isso: an Isso SQLite database into threads, comments and guest authors."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, CommentStatus, ImportRecord, Thread, User
from forum.ops.imports import isso as isso_source
from forum.ops.imports import loader
from forum.services.accounts import accounts
from forum.services.discussion import threads, trees

# The tables as Isso creates them (isso/db/threads.py and isso/db/comments.py).
SCHEMA = """
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER DEFAULT 0);
CREATE TRIGGER remove_stale_threads AFTER DELETE ON comments BEGIN
    DELETE FROM threads WHERE id NOT IN (SELECT tid FROM comments);
END;
"""

JAN_1 = datetime(2020, 1, 1, 12, tzinfo=UTC).timestamp()


class IssoDb:
    """A database as Isso would leave it, built row by row."""

    def __init__(self, path):
        self.path = str(path)
        with closing(sqlite3.connect(self.path)) as connection:
            connection.executescript(SCHEMA)
        self.comment_ids = iter(range(1, 10**6))

    def thread(self, id, uri="/2020/01/story/", title="A story"):
        self._execute("INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)", (id, uri, title))
        return id

    def comment(self, tid, text="Hello", parent=None, mode=1, author="Ada", email=None, **more):
        row = {
            "tid": tid,
            "id": more.pop("id", None) or next(self.comment_ids),
            "parent": parent,
            "created": more.pop("created", JAN_1),
            "modified": more.pop("modified", None),
            "mode": mode,
            "remote_addr": "127.0.0.0",
            "text": text,
            "author": author,
            "email": email,
            "website": more.pop("website", None),
            "likes": more.pop("likes", 0),
            "dislikes": more.pop("dislikes", 0),
            "voters": b"",
            "notification": 0,
        }
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self._execute(f"INSERT INTO comments ({columns}) VALUES ({marks})", tuple(row.values()))
        return row["id"]

    def _execute(self, sql, values):
        with closing(sqlite3.connect(self.path)) as connection, connection:
            connection.execute(sql, values)


@pytest.fixture
def isso(tmp_path):
    return IssoDb(tmp_path / "comments.db")


def run(isso, site=None):
    report = loader.run(
        isso_source.SOURCE,
        isso_source.LABEL,
        isso_source.read(isso.path, site),
        db.session.commit,
    )
    db.session.commit()
    return report


def by_external(external_id) -> Comment:
    local = db.session.scalar(
        select(ImportRecord.local_id).where(
            ImportRecord.source == "isso",
            ImportRecord.kind == "comment",
            ImportRecord.external_id == str(external_id),
        )
    )
    return db.session.get(Comment, local)


def approved_count(thread: Thread) -> int:
    return db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.thread_id == thread.id, Comment.status == CommentStatus.APPROVED
        )
    )


def test_threads_comments_nesting_dates_and_votes(ctx, isso):
    story = isso.thread(1, "/2020/01/story/", "A story")
    other = isso.thread(2, "/about", None)
    isso.thread(3, "/nobody-came/", "Empty")
    top = isso.comment(story, "First *comment*", likes=5, dislikes=1)
    reply = isso.comment(story, "A reply", parent=top, created=JAN_1 + 60, modified=JAN_1 + 90)
    isso.comment(other, "Elsewhere", created=JAN_1 + 3600)

    report = run(isso, site="https://blog.example")

    assert (report.threads_created, report.threads_empty) == (2, 1)
    assert report.comments_imported == 3 and report.skipped_count == 0
    thread = db.session.get(Thread, by_external(top).thread_id)
    assert threads.is_valid_key(thread.key) and thread.key.startswith("2020-01-story-")
    assert thread.title == "A story"
    assert thread.url == "https://blog.example/2020/01/story/"
    assert thread.origin == "https://blog.example"
    assert thread.comment_count == 2 == approved_count(thread)
    about = db.session.get(Thread, by_external(3).thread_id)
    assert about.title == "/about" and about.key.startswith("about-")

    first, second = by_external(top), by_external(reply)
    assert first.html == "<p>First <em>comment</em></p>"
    assert first.created_at == datetime(2020, 1, 1, 12, tzinfo=UTC) and first.edited_at is None
    assert (second.parent_id, second.root_id, second.depth) == (first.id, first.id, 1)
    assert second.created_at == datetime(2020, 1, 1, 12, 1, tzinfo=UTC)
    assert second.edited_at == datetime(2020, 1, 1, 12, 1, 30, tzinfo=UTC)
    assert (first.upvotes, first.downvotes, first.score) == (5, 1, 4)
    assert first.rank > 0  # "top" sorts old likes too
    page = trees.load_page(thread, None, "oldest", 10, None)
    assert page.roots[0].replies[0].comment.id == second.id


def test_without_a_site_threads_have_no_address(ctx, isso):
    isso.comment(isso.thread(1), "Hello")
    run(isso)

    thread = db.session.get(Thread, by_external(1).thread_id)
    assert thread.url is None and thread.origin is None


def test_modes_pending_and_deleted(ctx, isso):
    story = isso.thread(1)
    isso.comment(story, "accepted", mode=1)
    isso.comment(story, "waiting for a moderator", mode=2)
    # Isso wipes a deleted comment's text and author, and keeps the row only for its replies.
    holder = isso.comment(story, "", mode=4, author=None)
    isso.comment(story, "reply to the deleted one", parent=holder)
    isso.comment(story, "", mode=4, author=None)  # no replies left
    isso.comment(story, "strange", mode=8)

    report = run(isso)

    assert report.comments_imported == 4
    assert (report.comments_pending, report.comments_tombstones) == (1, 1)
    assert report.skipped["deleted in Isso, no replies"].examples == ["5"]
    assert report.skipped["unknown Isso mode 8"].examples == ["6"]
    pending = by_external(2)
    assert pending.status == CommentStatus.PENDING
    assert pending.hold_reasons == [{"rule": "import", "detail": "Held for moderation in Isso"}]
    tombstone = by_external(holder)
    assert tombstone.status == CommentStatus.DELETED and tombstone.deleted_at is not None
    assert tombstone.author_id is None and tombstone.body == ""
    assert by_external(4).parent_id == tombstone.id
    thread = db.session.get(Thread, tombstone.thread_id)
    assert thread.comment_count == 2 == approved_count(thread)


def test_authors_become_guests(ctx, isso):
    story = isso.thread(1)
    isso.comment(story, author="Ada", email="ada@example.org")
    isso.comment(story, author="Ada", email="ADA@example.org")
    isso.comment(story, author="Ada", email=None)
    isso.comment(story, author=None, email=None)

    report = run(isso)

    assert report.guests_created == 3
    ada, same, other, anonymous = (by_external(n).author for n in range(1, 5))
    assert ada.id == same.id != other.id
    assert anonymous.display_name == "Anonymous"
    for guest in (ada, other, anonymous):
        assert guest.is_guest and guest.email is None
        assert accounts.check_username(guest.username) is None
        assert accounts.authenticate(guest.username, "!") is None
        assert accounts.authenticate(guest.username, "") is None
    hashed = hashlib.sha256(b"ada@example.org").hexdigest()
    for record in db.session.scalars(select(ImportRecord.external_id)):
        assert "example.org" not in record and hashed not in record


def test_markdown_and_raw_html_go_through_the_sanitizer(ctx, isso):
    story = isso.thread(1)
    isso.comment(
        story,
        "Look <script>alert(1)</script> [here](javascript:alert(2)) "
        '<a href="https://x.example" onclick="y()">raw</a> [fine](https://example.org)',
    )
    run(isso)

    html = by_external(1).html
    assert tags(html) == [("p", []), ("a", [("href", "https://example.org"), REL])]
    assert "&lt;script&gt;" in html  # raw HTML shows as the text it was
    assert '<a href="https://example.org" rel="nofollow ugc noopener">fine</a>' in html


REL = ("rel", "nofollow ugc noopener")


def tags(html: str) -> list[tuple[str, list]]:
    """Every start tag in html, with its attributes."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_running_again_imports_nothing_twice(app, runner, isso):
    story = isso.thread(1)
    top = isso.comment(story, "one")
    isso.comment(story, "two", parent=top, author="Bo")

    first = runner.invoke(args=["import", "isso", isso.path, "--site", "https://blog.example/"])
    second = runner.invoke(args=["import", "isso", isso.path, "--site", "https://blog.example/"])

    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert "Comments: 2 imported; 0 already imported." in first.output
    assert "Guests: 2 created." in first.output
    assert "Threads: 0 created, 1 existing" in second.output
    assert "Comments: 0 imported; 2 already imported." in second.output
    assert "Guests: 0 created." in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Comment.id))) == 2
        assert db.session.scalar(select(func.count(User.id))) == 2
        thread = db.session.scalar(select(Thread))
        assert thread.comment_count == 2 and thread.url == "https://blog.example/2020/01/story/"


def test_the_database_is_only_read(runner, isso):
    isso.comment(isso.thread(1))
    before = Path(isso.path).read_bytes()

    result = runner.invoke(args=["import", "isso", isso.path])

    assert result.exit_code == 0, result.output
    assert Path(isso.path).read_bytes() == before


def test_a_reply_to_a_vanished_comment_becomes_top_level(ctx, isso):
    story = isso.thread(1)
    isso.comment(story, "answer", parent=999)

    report = run(isso)

    assert by_external(1).parent_id is None
    assert report.notes[loader.ORPHAN].examples == ["1"]


def test_a_bad_site_option(runner, isso):
    result = runner.invoke(args=["import", "isso", isso.path, "--site", "blog.example/path"])

    assert result.exit_code == 1
    assert "is not an origin like https://blog.example" in result.output


def test_a_file_that_is_not_sqlite(app, runner, tmp_path):
    path = tmp_path / "comments.db"
    path.write_bytes(b"this is not a database, just some text" * 100)

    result = runner.invoke(args=["import", "isso", str(path)])

    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "not a readable SQLite database (file is not a database)" in result.output


def test_a_sqlite_file_that_is_not_isso(runner, tmp_path):
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE threads (id INTEGER PRIMARY KEY, name TEXT)")

    result = runner.invoke(args=["import", "isso", str(path)])

    assert result.exit_code == 1
    assert "not an Isso database (no usable threads table)" in result.output


def test_a_missing_file(runner, tmp_path):
    result = runner.invoke(args=["import", "isso", str(tmp_path / "nowhere.db")])

    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nowhere.db'}: no such file"
    assert not (tmp_path / "nowhere.db").exists()  # read-only: nothing was created


# -- hostile databases ------------------------------------------------------------------
# Each would be read (or never finish) if the importer trusted the names in the file.
# A bad file changes nothing and exits non-zero with one line that says why.

RECURSIVE = (
    "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)"
    " SELECT x AS tid, x AS id, NULL AS parent, 1577880000 AS created, NULL AS modified,"
    " 1 AS mode, 'again' AS text, 'Bot' AS author, NULL AS email, 0 AS likes,"
    " 0 AS dislikes FROM r"
)


def refused(app, result, message: str) -> None:
    """The import failed with one line holding message, and wrote nothing."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    with app.app_context():
        for model in (Thread, Comment, User, ImportRecord):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def import_cli(runner, isso):
    return runner.invoke(args=["import", "isso", isso.path, "--site", "https://blog.example"])


def alter(isso, *statements, writable_schema=False):
    with closing(sqlite3.connect(isso.path, isolation_level=None)) as connection:
        if writable_schema:
            connection.execute("PRAGMA writable_schema = ON")
        for statement in statements:
            connection.execute(statement)


def test_a_recursive_view_named_comments_is_refused_at_once(app, runner, isso, monkeypatch):
    # Without the check this view never ends; the short bound only keeps a regression
    # from hanging the suite (it would then fail on the message).
    monkeypatch.setattr(isso_source, "READ_SECONDS", 2.0)
    isso.thread(1)
    alter(isso, "DROP TABLE comments", f"CREATE VIEW comments AS {RECURSIVE}")
    started = time.monotonic()

    result = import_cli(runner, isso)

    refused(app, result, f"{isso.path}: not an Isso database (comments is a view, not a table)")
    assert time.monotonic() - started < 2


def test_a_view_named_threads_is_refused(app, runner, isso):
    isso.comment(isso.thread(1))
    alter(
        isso,
        "ALTER TABLE threads RENAME TO real_threads",
        "CREATE VIEW threads AS SELECT id, uri, title FROM real_threads",
    )

    result = import_cli(runner, isso)

    refused(app, result, "not an Isso database (threads is a view, not a table)")


def test_a_view_in_the_name_case_isso_does_not_use_is_refused(app, runner, isso):
    # SQLite matches names without regard to case: "COMMENTS" answers to "comments".
    isso.thread(1)
    alter(isso, "DROP TABLE comments", f"CREATE VIEW COMMENTS AS {RECURSIVE}")

    result = import_cli(runner, isso)

    refused(app, result, "not an Isso database (comments is a view, not a table)")


def test_a_virtual_table_passed_off_as_a_table_is_refused(app, runner, isso):
    # sqlite_master says table, with a root page: only its SQL tells what SQLite builds.
    isso.thread(1)
    try:
        alter(isso, "DROP TABLE comments", "CREATE VIRTUAL TABLE comments USING fts5(text)")
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no FTS5")
    alter(
        isso,
        "UPDATE sqlite_master SET rootpage = 2 WHERE name = 'comments'",
        writable_schema=True,
    )

    result = import_cli(runner, isso)

    refused(app, result, "not an Isso database (comments is not a plain table)")


def test_a_view_passed_off_as_a_table_in_sqlite_master_is_refused(app, runner, isso):
    isso.thread(1)
    alter(isso, "DROP TABLE comments", f"CREATE VIEW comments AS {RECURSIVE}")
    alter(
        isso,
        "UPDATE sqlite_master SET type = 'table', rootpage = 2 WHERE name = 'comments'",
        writable_schema=True,
    )

    result = import_cli(runner, isso)

    refused(app, result, "not a readable SQLite database (malformed database schema (comments))")


def test_a_computed_column_is_refused(app, runner, isso):
    isso.thread(1)
    alter(
        isso,
        "DROP TABLE comments",
        "CREATE TABLE comments (tid, id INTEGER PRIMARY KEY, parent, created, modified, mode,"
        " author, email, likes, dislikes, text AS (printf('%.*c', 100000, 'x')))",
        "INSERT INTO comments (tid, id, created, mode) VALUES (1, 1, 1577880000, 1)",
    )

    result = import_cli(runner, isso)

    refused(app, result, "not an Isso database (comments.text is computed, not stored)")


@pytest.mark.parametrize(
    "statements, message",
    [
        (["DROP TABLE comments"], "not an Isso database (no usable comments table)"),
        (["DROP TABLE threads"], "not an Isso database (no usable threads table)"),
        (
            ["ALTER TABLE comments DROP COLUMN likes"],
            "not an Isso database (no usable comments table)",
        ),
    ],
    ids=["no-comments", "no-threads", "no-likes-column"],
)
def test_missing_tables_or_columns(app, runner, isso, statements, message):
    isso.comment(isso.thread(1))
    alter(isso, *statements)

    refused(app, result=import_cli(runner, isso), message=message)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"SQLite format 3\x00" + b"\xff" * 200, "not a readable SQLite database"),
        (b"<?xml version='1.0'?><disqus/>", "not a readable SQLite database"),
        (b"", "not an Isso database (no usable threads table)"),
    ],
    ids=["damaged-header", "xml", "empty"],
)
def test_a_file_that_is_not_a_database(app, runner, tmp_path, content, message):
    path = tmp_path / "comments.db"
    path.write_bytes(content)

    result = runner.invoke(args=["import", "isso", str(path)])

    refused(app, result, message)
    assert path.read_bytes() == content


def test_an_oversized_value_is_refused(app, runner, isso):
    isso.comment(isso.thread(1), "x" * (isso_source.VALUE_BYTES + 1))

    result = import_cli(runner, isso)

    refused(app, result, f"a value longer than {isso_source.VALUE_BYTES:,} bytes")


def test_a_read_that_takes_too_long_is_stopped(app, runner, isso, monkeypatch):
    # A finite but slow read: many rows, and a bound far below what reading them takes.
    monkeypatch.setattr(isso_source, "READ_SECONDS", 0.05)
    isso.thread(1)
    alter(
        isso,
        "INSERT INTO comments (tid, id, created, mode, text, author, voters)"
        " WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r LIMIT 300000)"
        " SELECT 1, x, 1577880000, 1, 'Hello there', 'Ada', x'' FROM r",
    )
    started = time.monotonic()

    result = import_cli(runner, isso)

    refused(app, result, f"{isso.path}: gave up reading it after 0.05 s")
    assert time.monotonic() - started < 5


def test_time_spent_storing_does_not_count_toward_the_bound(isso):
    for n in range(1, 4):
        isso.comment(isso.thread(n, uri=f"/page-{n}/"))
    items = isso_source.read(isso.path, seconds=0.2)()

    count = 0
    for _ in items:
        time.sleep(0.1)  # the importer writing a slow batch: not the archive's time
        count += 1

    assert count == 6


def test_triggers_and_other_objects_are_left_alone(app, runner, isso):
    story = isso.thread(1)
    isso.comment(story, "one")
    isso.comment(story, "two")
    # None of these is ever read; a trigger cannot fire on a read-only SELECT anyway.
    alter(
        isso,
        "CREATE TABLE audit (x)",
        "CREATE TRIGGER spy AFTER UPDATE ON comments BEGIN INSERT INTO audit VALUES (1); END",
        "CREATE TRIGGER stale AFTER DELETE ON threads BEGIN DELETE FROM comments; END",
        f"CREATE VIEW endless AS {RECURSIVE}",
        "CREATE INDEX by_thread ON comments (tid)",
    )
    before = Path(isso.path).read_bytes()

    result = import_cli(runner, isso)

    assert result.exit_code == 0, result.output
    assert "Comments: 2 imported" in result.output
    assert Path(isso.path).read_bytes() == before
