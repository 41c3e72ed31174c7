"""flask export / import-backup: the whole site to one JSON file and back
(forum.ops.backup), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select

from forum import create_app, secretbox
from forum.extensions import db
from forum.models import (
    Comment,
    CommentStatus,
    EmbedSite,
    ExternalIdentity,
    IdempotencyKey,
    Role,
    Setting,
    Thread,
    User,
    UserSession,
    utcnow,
)
from forum.ops import backup
from forum.ops.imports import loader
from forum.ops.imports.items import PostItem, ThreadItem
from forum.services import settings
from forum.services.accounts import accounts, guests, people, proof, sso
from forum.services.discussion import comments, sites, thread_admin, threads, votes
from forum.services.moderation import bans, controls, decisions, flags
from forum.services.notify import notifications
from tests.conftest import PASSWORD, AuthActions, _empty_tables, _test_config

NEWS = "https://news.example"


@pytest.fixture
def app(app_with):
    return app_with(FORUM_EMBED_ORIGINS=NEWS)


# -- a site with something in every table ------------------------------------------------


def build_site(app) -> dict:
    """Through the real services: every role, a ban, articles, an embedded
    thread with an origin and one merged into it, comments in every status,
    settled theories, votes, flags, notes, settings, follows, mutes,
    notifications, a site with single sign-on, guests and import records."""
    with app.test_request_context():
        register = accounts.register
        admin = register("root", "root@example.org", PASSWORD, Role.ADMIN)
        mod = register("mona", "mona@example.org", PASSWORD, Role.MODERATOR)
        ada = register("ada", "ada@example.org", PASSWORD, display_name="Ada L.")
        bob = register("bob", "bob@example.org", PASSWORD)
        cy = register("cyd", "cyd@example.org", PASSWORD)
        dee = register("dee", "dee@example.org", PASSWORD)
        people.update_profile(ada, "Ada Lovelace", "Counts things. <b>not bold</b>")
        ada.email_verified_at = utcnow()
        dee.email_kinds = ["reply"]  # a reply to her is mailed: a row in the outbox

        threads.save_article("a-story", "A story", "Once *upon* a time.", summary="S", byline="B")
        threads.save_article("held-story", "Held", "Every comment waits.")
        threads.save_article("closed-story", "Closed", "It is over.")
        story = threads.thread_by_key("a-story")
        held = threads.thread_by_key("held-story")
        closed = threads.thread_by_key("closed-story")
        controls.update_thread(
            mod, story, spoiler_until=utcnow() + timedelta(days=3), moderation="post"
        )
        controls.update_thread(mod, held, moderation="pre")

        post = comments.post_comment
        top = post(ada, story, "The **first** comment, with [a link](https://example.org).")
        reply = post(bob, story, "A reply to ada", parent=top)
        deeper = post(ada, story, "A reply to the reply, @bob", parent=reply)
        post(cy, story, "Deeper still", parent=deeper)
        to_dee = post(dee, story, "Dee's comment")
        post(bob, story, "Replying to dee", parent=to_dee)
        confirmed = post(bob, story, "It was the butler.", theory_title="The butler did it")
        debunked = post(cy, story, "Twins!", theory_title="There are twins")
        post(ada, story, "Nobody knows yet.", theory_title="An open theory", spoiler=True)
        edited = post(ada, story, "Before the edit")
        comments.edit_comment(ada, edited, "After the edit")
        featured = post(bob, story, "Worth featuring")
        rejected = post(cy, story, "Rude words")
        spam = post(cy, story, "Buy things")
        gone = post(dee, story, "Deleted by its author, replies stay")
        post(ada, story, "A reply under a tombstone", parent=gone)
        removed = post(bob, story, "Removed by a moderator")
        pending = post(ada, held, "Waiting for a moderator")
        post(bob, closed, "Said before it closed")

        act = decisions.act
        act(mod, confirmed, "confirm_theory", note="Chapter 9 says so", link="https://ex.org/9")
        act(mod, debunked, "debunk_theory", note="Only one of them")
        act(mod, featured, "feature")
        act(mod, rejected, "reject", reason="Be kind")
        act(mod, spam, "spam")
        comments.delete_comment(dee, gone)
        comments.delete_comment(mod, removed)
        controls.update_thread(mod, closed, status="closed")

        votes.vote(bob, top, 1)
        votes.vote(cy, top, 1)
        votes.vote(ada, confirmed, 1)
        votes.vote(cy, confirmed, -1)
        flags.flag(ada, reply, "off_topic", note="Not about the story")
        flags.flag(dee, reply, "spam")
        bans.add_note(mod, cy, "Warned about tone.")
        bans.ban(mod, cy, "Abuse", until=None)
        bans.ban(mod, dee, "Cool off", until=utcnow() + timedelta(days=1))
        bans.unban(mod, dee, "Apologised")
        controls.change_settings(
            admin,
            settings.as_form({"banned_words": ["xyzzy"], "max_links": 5, "hook_secret": "s3"}),
        )
        notifications.follow(ada, story)
        people.mute(ada, cy)
        accounts.issue_token(ada, 24)
        db.session.add(UserSession(user_id=ada.id, key_hash="a" * 64))
        db.session.add(IdempotencyKey(user_id=ada.id, key="form-1", comment_id=top.id))

        # Embedding: an origin with single sign-on, a reader who came through
        # it, and an older thread merged into a newer one (a reference forward).
        sites.set_allowed(admin, NEWS, True)
        secret = sites.new_sso_secret(admin, NEWS)
        claims = {
            "sub": "news-reader-7",
            "username": "newsie",
            "email": "newsie@news.example",
            "exp": int(time.time()) + 600,
            "jti": uuid.uuid4().hex,
        }
        newsie = sso.exchange(jwt.encode(claims, secret, algorithm="HS256"), NEWS)
        old, _ = threads.thread_for_embed("old-page", NEWS, "Old page", f"{NEWS}/old")
        embedded_comment = post(newsie, old, "Said on the old page")
        post(bob, old, "And a reply", parent=embedded_comment)
        new, _ = threads.thread_for_embed("news-42", NEWS, "New page", f"{NEWS}/42")
        post(ada, new, "On the new page")
        thread_admin.merge_threads(admin, old, new)
        assert old.id < old.merged_into_id

        # A guest's comment, its proof of work spent; a reader's GitHub identity.
        guest, _ = guests.guest_for("Wren Visitor", "wren@example.org")
        challenge = proof.issue()["challenge"]
        nonce = proof.solve(challenge, proof.difficulty())
        signals = guests.Signals(proof.check({"challenge": challenge, "nonce": nonce}))
        comments.post_comment(guest, new, "A guest was here", guest=signals)
        db.session.add(
            ExternalIdentity(provider="github", subject="4207", user_id=ada.id, email=ada.email)
        )

        # An import: guests and import records.
        when = utcnow() - timedelta(days=400)
        items = [
            ThreadItem("1", "imported-page", "Imported page", None, when),
            PostItem("10", "1", None, "Zoë", "zoe@example.org", "Hello from *Isso*", when),
            PostItem("11", "1", "10", "", None, "An anonymous reply", when + timedelta(hours=1)),
        ]
        loader.run("isso", "Isso", lambda: iter(items))
        db.session.commit()
        return {"pending": pending.id}


def table_rows(path) -> dict[str, list]:
    """{table: rows} of a backup file (the header compared apart)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as file:
        data = json.load(file)
    assert data["format"] == "forum-backup" and data["version"] == 1
    return {name: table for name, table in data["tables"].items()}


def export(runner, path, *options) -> str:
    result = runner.invoke(args=["export", str(path), *options])
    assert result.exit_code == 0, result.output
    return result.output


def exported(runner, path, *options):
    export(runner, path, *options)
    return path


def restore(runner, path):
    return runner.invoke(args=["import-backup", str(path)])


def wipe(app) -> None:
    with app.app_context():
        db.session.remove()
        _empty_tables()


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


ANONYMOUS_VIEWS = [
    "/api/v1/threads/a-story/comments",
    "/api/v1/threads/a-story/comments?sort=top&limit=3",
    "/api/v1/threads/old-page/comments",  # merged: shows news-42
    "/api/v1/threads/news-42",
    "/api/v1/threads/imported-page/comments",
    "/api/v1/counts?keys=a-story,old-page,news-42,closed-story",
    "/api/v1/users/ada",
    "/",
    "/articles/a-story",
    "/articles/closed-story",
    "/users/ada",
    "/users/cyd",
    "/theories",
    "/articles/a-story/comments.atom",
]
MODERATOR_VIEWS = [
    "/api/v1/threads/held-story/comments",
    "/moderation/queue/pending",
    "/moderation/queue/reported",
    "/moderation/queue/spam",
    "/moderation/queue/rejected",
    "/moderation/log",
    "/moderation/users/cyd",
    "/api/v1/moderation/log",
    "/api/v1/moderation/users/dee",
    "/api/v1/moderation/settings",
]


# What differs from one request to the next whatever the data: CSRF tokens, a
# form's fresh idempotency key, the time a page was made (for its live updates).
PER_REQUEST = re.compile(
    r'(csrf-token" content|csrf_token" value|idempotency_key" type="hidden" value|data-since)='
    r'"[^"]*"'
)


def views(client, paths, headers=None) -> dict[str, object]:
    seen = {}
    for path in paths:
        response = client.get(path, headers=headers or {})
        assert response.status_code == 200, (path, response.status_code)
        seen[path] = response.json if response.is_json else PER_REQUEST.sub("", response.text)
    return seen


# -- round trips -----------------------------------------------------------------------


def test_round_trip_without_secrets(app, runner, tmp_path):
    build_site(app)
    before = views(app.test_client(), ANONYMOUS_VIEWS)
    counts = row_counts(app)
    first = tmp_path / "site.json"
    output = export(runner, first)
    assert "users: 10" in output and "Not in the backup:" in output
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o600

    wipe(app)
    result = restore(runner, first)
    assert result.exit_code == 0, result.output
    assert f"comments: {counts['comments']}" in result.output

    second = tmp_path / "again.json"
    export(runner, second)
    assert table_rows(second) == table_rows(first)
    assert views(app.test_client(), ANONYMOUS_VIEWS) == before

    # Everything but the secrets came back (one setting is the hook's secret).
    emptied = set(backup.SECRET_TABLES) | set(backup.EXCLUDED)
    expected = {t: 0 if t in emptied else n for t, n in counts.items()}
    assert row_counts(app) == {**expected, "settings": counts["settings"] - 1}
    with app.app_context():
        assert set(db.session.scalars(select(User.password_hash))) == {"!"}
        assert accounts.authenticate("ada", PASSWORD) is None
        site = db.session.scalar(select(EmbedSite))
        assert (site.origin, site.sso_secret, site.sso_secret_set_at) == (NEWS, None, None)
        assert db.session.get(Setting, "hook_secret") is None
        assert db.session.get(Setting, "banned_words").value == ["xyzzy"]
    assert AuthActions(app.test_client()).login("ada").status_code != 302  # not signed in
    assert_new_rows_get_fresh_ids(app)


def test_round_trip_with_secrets(app, runner, tmp_path):
    build_site(app)
    client = app.test_client()
    AuthActions(client).login("root")
    token = client.post("/api/v1/tokens", json={"username": "root", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {token.json['token']}"}
    before = views(client, ANONYMOUS_VIEWS + MODERATOR_VIEWS)
    before_api = views(app.test_client(), MODERATOR_VIEWS[:1], bearer)
    counts = row_counts(app)
    full, plain = tmp_path / "full.json", tmp_path / "plain.json"
    warning = export(runner, full, "--with-secrets")
    assert "will hold secrets" in warning and "Not in the backup:\n  outbox:" in warning
    export(runner, plain)

    # The site had rows in every table, so each of them made the round trip.
    assert counts["outbox"] > 0
    empty = [name for name, rows in table_rows(full).items() if not rows["rows"]]
    assert empty == [], f"build_site() makes no rows of {empty}: add some"
    assert set(backup.EXCLUDED) | set(table_rows(full)) == set(db.metadata.tables)

    wipe(app)
    result = restore(runner, full)
    assert result.exit_code == 0, result.output
    assert row_counts(app) == {**counts, "outbox": 0}
    assert table_rows(exported(runner, tmp_path / "full-2.json", "--with-secrets")) == (
        table_rows(full)
    )
    # ... and without the secrets, the same as a plain export of the original.
    assert table_rows(exported(runner, tmp_path / "plain-2.json")) == table_rows(plain)

    client = app.test_client()
    assert AuthActions(client).login("root").status_code == 302  # signed in
    assert views(client, ANONYMOUS_VIEWS + MODERATOR_VIEWS) == before
    assert views(app.test_client(), MODERATOR_VIEWS[:1], bearer) == before_api
    with app.app_context():
        assert accounts.authenticate("ada", PASSWORD) is not None
        assert db.session.scalar(select(EmbedSite.sso_secret)) is not None
        assert secretbox.unseal(db.session.get(Setting, "hook_secret").value) == "s3"
    assert_new_rows_get_fresh_ids(app)


def assert_new_rows_get_fresh_ids(app) -> None:
    """After a restore new rows get ids past the restored ones (PostgreSQL's
    sequences were moved on): no unique violation."""
    with app.test_request_context():
        newest = db.session.scalar(select(func.max(Comment.id)))
        threads_before = db.session.scalar(select(func.max(Thread.id)))
        zed = accounts.register("zed", "zed@example.org", PASSWORD)
        thread, created = threads.thread_for_embed("brand-new", NEWS)
        comment = comments.post_comment(zed, thread, "After the restore")
        votes.vote(zed, db.session.get(Comment, newest), 1)
        db.session.commit()
        assert created and thread.id > threads_before and comment.id > newest
        assert comment.status == CommentStatus.APPROVED


def test_pretty_printed_and_compressed_files_restore_the_same(app, runner, tmp_path):
    build_site(app)
    plain = tmp_path / "site.json"
    export(runner, plain)
    packed = tmp_path / "site.json.gz"
    export(runner, packed)
    with gzip.open(packed) as unpacked:
        assert unpacked.read(20) == b'{"format":"forum-bac'
    assert os.path.getsize(packed) < os.path.getsize(plain) / 3
    assert table_rows(packed) == table_rows(plain)
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(plain.read_text()), indent=2, ensure_ascii=False))

    for path in (packed, pretty):
        wipe(app)
        result = restore(runner, path)
        assert result.exit_code == 0, result.output
        assert table_rows(exported(runner, tmp_path / "again.json")) == table_rows(plain)


def test_a_site_moves_from_sqlite_to_postgresql(app, database, runner, tmp_path):
    if not database.startswith("postgresql"):
        pytest.skip("moves a SQLite site into the PostgreSQL test database")
    old = create_app(
        {**_test_config(f"sqlite:///{tmp_path / 'old.sqlite'}"), "FORUM_EMBED_ORIGINS": NEWS}
    )
    with old.app_context():
        db.create_all()
    build_site(old)
    before = views(old.test_client(), ANONYMOUS_VIEWS)
    moved = exported(old.test_cli_runner(), tmp_path / "old.json", "--with-secrets")
    with old.app_context():
        db.engine.dispose()

    result = restore(runner, moved)
    assert result.exit_code == 0, result.output
    assert table_rows(exported(runner, tmp_path / "new.json", "--with-secrets")) == (
        table_rows(moved)
    )
    assert views(app.test_client(), ANONYMOUS_VIEWS) == before
    assert_new_rows_get_fresh_ids(app)


# -- refusals: nothing is written ------------------------------------------------------


@pytest.fixture
def site_file(app, runner, tmp_path):
    build_site(app)
    path = tmp_path / "site.json"
    export(runner, path)
    wipe(app)
    return path


def refused(app, runner, path, words):
    result = restore(runner, path)
    assert result.exit_code == 1, result.output
    assert words in result.output, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "Nothing was restored." in result.output
    assert set(row_counts(app).values()) == {0}


def test_refuses_a_database_that_is_not_empty(app, runner, site_file, make):
    make.article("already-here")
    result = restore(runner, site_file)
    assert result.exit_code == 1
    assert "The database is not empty (articles has rows)" in result.output
    assert row_counts(app)["articles"] == 1 and row_counts(app)["users"] == 0


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "not a forum backup"),
        ("<?xml version='1.0'?><disqus/>", "not a forum backup"),
        ('{"format": "isso", "version": 1, "tables": {}}', "not a forum backup"),
        ('{"format": "forum-backup", "version": 2, "tables": {}}', "format version 2"),
        ("[1, 2, 3]", "not a forum backup"),
    ],
)
def test_refuses_what_is_not_a_backup(app, runner, tmp_path, text, words):
    path = tmp_path / "other.json"
    path.write_text(text)
    refused(app, runner, path, words)


def test_refuses_a_backup_of_another_schema_revision(app, runner, site_file):
    text = site_file.read_text()
    site_file.write_text(text.replace('"schema":"', '"schema":"0007-was-', 1))
    refused(app, runner, site_file, "schema revision 0007-was-")


def test_a_truncated_file_restores_nothing(app, runner, site_file):
    text = site_file.read_text()
    # Cut in the middle of the comments: users, threads and more went in first.
    cut = text.index("\n", text.index("After the edit", text.index('"comments":{')))
    site_file.write_text(text[:cut])
    refused(app, runner, site_file, "ends too early, in table comments after row")
    site_file.write_text(text[: len(text) - 3])
    refused(app, runner, site_file, "ends too early")


def test_a_row_the_database_refuses_restores_nothing(app, runner, site_file):
    data = json.loads(site_file.read_text())
    data["tables"]["votes"]["rows"][-1][1] = 999_999  # a vote on no comment
    site_file.write_text(json.dumps(data))
    refused(app, runner, site_file, "The database refused rows 1–4 of votes")


def test_a_damaged_row_is_named(app, runner, site_file):
    text = site_file.read_text()
    status = re.compile(r'"(approved)",').search(text, text.index('"comments":{'))
    site_file.write_text(text[: status.start(1)] + "approvedd" + text[status.end(1) :])
    refused(app, runner, site_file, "column status: 'approvedd' is not one of")
    site_file.write_text(text.replace('"rows":[\n[', '"rows":[\n[}', 1))
    refused(app, runner, site_file, "The backup is damaged in table")


HEADER = {"format": "forum-backup", "version": 1, "with_secrets": False}


def test_the_schema_must_be_this_codes(tmp_path):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'other.sqlite'}"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export", str(tmp_path / "site.json")])
    assert result.exit_code == 1
    assert "The database has no api_tokens table: run `flask --app forum db upgrade`" in (
        result.output
    )
    with app.app_context():
        db.create_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('0007')")
        head = backup.code_revision()
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({**HEADER, "schema": head, "tables": {}, "counts": {}}))
    for args in (["export", str(tmp_path / "site.json")], ["import-backup", str(empty)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert f"The database is at schema revision 0007, this code at {head}" in result.output
    assert not any(name.startswith(("site", ".site")) for name in os.listdir(tmp_path))
    with app.app_context():
        db.engine.dispose()


def test_a_failed_export_leaves_no_file(app, runner, tmp_path, monkeypatch):
    path = tmp_path / "site.json"
    path.write_text("the previous backup")

    def broken(out, with_secrets=False):
        out.write("{half")
        raise backup.BackupError("The database is at schema revision 0007, this code at 0008")

    monkeypatch.setattr(backup, "write", broken)
    result = runner.invoke(args=["export", str(path)])
    assert result.exit_code == 1 and "schema revision 0007" in result.output
    assert os.listdir(tmp_path) == ["site.json"] and path.read_text() == "the previous backup"


# -- what a backup holds ---------------------------------------------------------------


def test_every_table_is_backed_up_or_left_out_with_a_reason(app):
    with app.app_context():
        with_secrets = {t.name for t in backup.backed_up_tables(with_secrets=True)}
        without = {t.name for t in backup.backed_up_tables(with_secrets=False)}
        reasons = backup.left_out(with_secrets=False)
    assert with_secrets | set(backup.EXCLUDED) == set(db.metadata.tables)
    assert with_secrets - without == set(backup.SECRET_TABLES)
    assert all(len(why) > 20 for why in reasons.values())
    assert "settings.hook_secret" in reasons


# Columns whose names say "secret", and which were looked at and are not one.
NOT_SECRETS: set[tuple[str, str]] = set()


def test_secret_looking_columns_are_left_out_without_secrets(app):
    with app.app_context():
        tables = backup.backed_up_tables(with_secrets=False)
    suspicious = {
        (table.name, column.name)
        for table in tables
        for column in table.columns
        if re.search(r"secret|hash|token|password|jti", column.name)
    }
    assert suspicious - NOT_SECRETS <= set(backup.SECRET_COLUMNS), (
        "a new column that may be a secret: add it to backup.SECRET_COLUMNS or NOT_SECRETS"
    )


def test_self_referencing_tables_have_one_integer_id():
    # The restore inserts rows in id order and sets forward references last.
    for table in db.metadata.sorted_tables:
        if any(fk.column.table is table for fk in table.foreign_keys):
            (key,) = table.primary_key.columns
            assert key.type.python_type is int
            assert all(fk.column is key for fk in table.foreign_keys if fk.column.table is table)
