"""Deleting an account (forum.services.accounts.erasure): the words go, the
replies stay, the counters stay true, nothing of the person is left to serve or
back up, and the cost does not grow with their comments in statements."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, insert, select, update

from forum.errors import Forbidden, ValidationError
from forum.extensions import db
from forum.models import (
    ApiToken,
    AuditEntry,
    Comment,
    CommentStatus,
    ExternalIdentity,
    Flag,
    Follow,
    Mute,
    Notification,
    OutboxMessage,
    Role,
    Thread,
    User,
    UserNote,
    UserSession,
    Vote,
    utcnow,
)
from forum.services.accounts import accounts, erasure
from forum.services.discussion import comments, threads, votes
from forum.services.discussion.votes import wilson_rank
from forum.services.moderation import bans, decisions, flags
from forum.services.notify import notifications
from tests.conftest import count_statements

WORDS = "Zanzibar-quokka-7781 says the butler did it"
THEORY = "The lighthouse keeper is Quokka-7781's twin"
NAME = "Alice Marchbank-Quokka"
FLAG_NOTE = "Quokka-7781 flag note about spoilers"
NOTE = "Quokka-7781 moderator note"


def build(app, make):
    """alice writes, replies, votes, flags, follows, mutes and is notified; bob
    and carol answer her; a moderator acts on her and notes her."""
    alice = make.user("alice")
    bob = make.user("bob")
    carol = make.user("carol")
    mona = make.user("mona", role=Role.MODERATOR)
    make.article("a-story", "A story")
    make.article("b-story", "B story")
    top = make.comment(alice, "a-story", WORDS, theory_title=THEORY)
    reply = make.comment(bob, "a-story", "Bob answers @alice", parent_id=top)
    own_reply = make.comment(alice, "a-story", f"{WORDS} again", parent_id=reply)
    elsewhere = make.comment(alice, "b-story", f"{WORDS} elsewhere")
    bobs = make.comment(bob, "b-story", "Bob's own words")
    carols = make.comment(carol, "b-story", "Carol's words")
    make.vote(alice, bobs, 1)
    make.vote(carol, bobs, -1)
    make.vote(bob, top, 1)
    with app.app_context():
        a = db.session.get(User, alice.id)
        a.display_name = NAME
        a.bio = "Quokka-7781 bio"
        notifications.follow(a, threads.thread_by_key("b-story"))
        flags.flag(a, db.session.get(Comment, carols), "spoiler", FLAG_NOTE)
        db.session.add(Mute(user_id=a.id, muted_id=carol.id))
        db.session.add(Mute(user_id=bob.id, muted_id=a.id))
        db.session.add(ExternalIdentity(provider="github", subject="42", user_id=a.id))
        m = db.session.get(User, mona.id)
        bans.add_note(m, a, NOTE)
        decisions.act(m, db.session.get(Comment, elsewhere), "reject", reason="Quokka-7781 off")
        accounts.issue_token(a, 24)
        accounts.start_session(a)
        db.session.commit()
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "mona": mona,
        "top": top,
        "reply": reply,
        "own_reply": own_reply,
        "elsewhere": elsewhere,
        "bobs": bobs,
        "carols": carols,
    }


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_deleting_erases_the_words_and_keeps_the_replies(app, make):
    site = build(app, make)
    with app.app_context():
        thread_a = threads.thread_by_key("a-story")
        before = (thread_a.comment_count, thread_a.version)
        b_version = threads.thread_by_key("b-story").version
        bob_unread = db.session.get(User, site["bob"].id).unread_count
        assert count(Notification, Notification.actor_id == site["alice"].id) >= 1
        alice = db.session.get(User, site["alice"].id)
        erasure.delete_account(alice, actor=alice)
        db.session.commit()

        alice = db.session.get(User, site["alice"].id)
        assert alice.deleted_at is not None
        assert alice.username == f"deleted.{alice.id}" and alice.display_name == "deleted"
        assert alice.email is None and alice.bio == "" and alice.role == Role.READER
        assert accounts.find_user("alice") is None

        mine = db.session.scalars(select(Comment).where(Comment.author_id == alice.id)).all()
        assert len(mine) == 3
        for comment in mine:
            assert (comment.body, comment.html, comment.theory_title) == ("", "", None)
            assert comment.status == CommentStatus.DELETED
            assert comment.moderation_reason is None and comment.hold_reasons == []
        # Bob's reply still hangs under alice's (now a tombstone), and hers under his.
        assert db.session.get(Comment, site["reply"]).parent_id == site["top"]
        assert db.session.get(Comment, site["own_reply"]).parent_id == site["reply"]

        thread_a = threads.thread_by_key("a-story")
        assert thread_a.comment_count == before[0] - 2  # her two approved comments there
        assert thread_a.version > before[1]
        assert threads.thread_by_key("b-story").version > b_version  # her vote was there

        # Her +1 is gone from Bob's comment; Carol's -1 stays.
        bobs = db.session.get(Comment, site["bobs"])
        assert (bobs.upvotes, bobs.downvotes, bobs.score) == (0, 1, -1)
        assert bobs.rank == wilson_rank(0, 1)
        assert count(Vote, Vote.user_id == alice.id) == 0

        for model, column in (
            (Follow, Follow.user_id),
            (Notification, Notification.user_id),
            (Notification, Notification.actor_id),
            (UserSession, UserSession.user_id),
            (ApiToken, ApiToken.user_id),
            (ExternalIdentity, ExternalIdentity.user_id),
            (UserNote, UserNote.user_id),
            (Mute, Mute.user_id),
            (Mute, Mute.muted_id),
        ):
            assert count(model, column == alice.id) == 0, model.__tablename__
        assert db.session.get(User, site["bob"].id).unread_count < bob_unread
        bob = db.session.get(User, site["bob"].id)
        assert bob.unread_count == count(
            Notification, Notification.user_id == bob.id, Notification.read_at.is_(None)
        )
        # Her report stays on the moderators' record, without her words.
        flag = db.session.scalar(select(Flag).where(Flag.user_id == alice.id))
        assert flag.reason.value == "spoiler" and flag.note is None

        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        last = entries[-1]
        assert last.action == "delete_account"
        assert (last.target_id, last.actor_id) == (alice.id, alice.id)
        reject = next(e for e in entries if e.action == "reject")
        assert reject.actor_id == site["mona"].id and reject.reason is None
        note = next(e for e in entries if e.action == "note")
        assert note.reason is None and note.target_label == alice.username


def test_cannot_sign_in_afterwards(app, make):
    site = build(app, make)
    with app.app_context():
        alice = db.session.get(User, site["alice"].id)
        raw, _ = accounts.issue_token(alice, 24)
        key = accounts.start_session(alice)
        db.session.commit()
        erasure.delete_account(alice, actor=alice)
        db.session.commit()
        assert accounts.authenticate("alice", "correct horse battery") is None
        assert accounts.authenticate(f"deleted.{alice.id}", "") is None
        assert accounts.token_for(raw) is None
        assert accounts.session_user(str(alice.id), key) is None


def test_admins_delete_with_a_reason_and_the_last_admin_stays(app, make):
    site = build(app, make)
    ada = make.user("ada", role=Role.ADMIN)
    with app.app_context():
        admin = db.session.get(User, ada.id)
        alice = db.session.get(User, site["alice"].id)
        mona = db.session.get(User, site["mona"].id)
        with pytest.raises(Forbidden):
            erasure.delete_account(alice, actor=mona, reason="moderators cannot")
        with pytest.raises(ValidationError):
            erasure.delete_account(alice, actor=admin)
        with pytest.raises(Forbidden):
            erasure.delete_account(admin, actor=admin)  # the only admin
        erasure.delete_account(alice, actor=admin, reason="Asked by email on 3 May")
        db.session.commit()
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.reason == "Asked by email on 3 May" and entry.after == {"by": "admin"}
        with pytest.raises(Forbidden):
            erasure.delete_account(db.session.get(User, alice.id), actor=admin, reason="again")


def test_a_backup_afterwards_holds_nothing_of_the_person(app, make, runner, tmp_path):
    site = build(app, make)
    with app.app_context():
        # An unsent email quoting her reply waits for bob.
        email = db.session.get(User, site["alice"].id).email
        db.session.add(
            OutboxMessage(
                user_id=site["bob"].id,
                comment_id=site["own_reply"],
                to_address="bob@example.org",
                subject="A reply",
                body=WORDS,
            )
        )
        db.session.commit()
    before = tmp_path / "before.json"
    assert runner.invoke(args=["export", str(before), "--with-secrets"]).exit_code == 0
    text = before.read_text()
    assert WORDS in text and NAME in text and email in text  # the search can find them
    with app.app_context():
        alice = db.session.get(User, site["alice"].id)
        erasure.delete_account(alice, actor=alice)
        db.session.commit()
        assert count(OutboxMessage, OutboxMessage.comment_id == site["own_reply"]) == 0
    after = tmp_path / "after.json"
    result = runner.invoke(args=["export", str(after), "--with-secrets"])
    assert result.exit_code == 0, result.output
    text = after.read_text()
    json.loads(text)
    for trace in ("Quokka-7781", "Zanzibar", NAME, email, "alice@", THEORY):
        assert trace.lower() not in text.lower(), trace
    assert "Bob answers @alice" in text  # others' words stay


def _many_comments(app, n: int) -> User:
    """A reader with n comments in one thread and a vote for each of a few."""
    with app.app_context():
        author = accounts.register(f"prolific{n}", f"p{n}@example.org", "long password!")
        voter = accounts.register(f"voter{n}", f"v{n}@example.org", "long password!")
        threads.save_article(f"long-{n}", "Long", "Body.")
        thread = threads.thread_by_key(f"long-{n}")
        first = comments.add_comment(thread, author, None, "first", CommentStatus.APPROVED)
        now = utcnow()
        db.session.execute(
            insert(Comment),
            [
                {
                    "thread_id": thread.id,
                    "parent_id": first.id,
                    "root_id": first.id,
                    "depth": 1,
                    "author_id": author.id,
                    "body": f"words {i}",
                    "html": f"<p>words {i}</p>",
                    "status": CommentStatus.APPROVED,
                    "created_at": now,
                    "hold_reasons": [],
                }
                for i in range(n - 1)
            ],
        )
        other = comments.add_comment(thread, voter, None, "voter's", CommentStatus.APPROVED)
        votes.vote(author, other, 1)
        db.session.execute(update(Thread).where(Thread.id == thread.id).values(comment_count=n + 1))
        db.session.commit()
        return db.session.get(User, author.id).id


@pytest.mark.parametrize("n", [10, 5000])
def test_cost_is_a_fixed_number_of_statements(app, n, record_property):
    uid = _many_comments(app, n)
    with count_statements(app) as seen, app.app_context():
        started = time.perf_counter()
        user = db.session.get(User, uid)
        erasure.delete_account(user, actor=None, reason="load test")
        db.session.commit()
        seconds = time.perf_counter() - started
        assert count(Comment, Comment.author_id == uid, Comment.body != "") == 0
        assert threads.thread_by_key(f"long-{n}").comment_count == 1  # the voter's
    record_property("seconds", seconds)
    print(f"deleted a person with {n} comments in {seconds * 1000:.0f} ms, {len(seen)} statements")
    assert len(seen) < 60
    assert seconds < 10
