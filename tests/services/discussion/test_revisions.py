"""Edit history (forum.services.discussion.revisions): every edit keeps the words
it replaced, for moderators only; the author's deletion takes them too."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from forum.errors import Conflict, Forbidden
from forum.extensions import db
from forum.models import Comment, CommentRevision, Role, User
from forum.services.accounts import erasure
from forum.services.discussion import comments, revisions, threads


@pytest.fixture
def people(ctx, make, article):
    alice = make.user("alice")
    mona = make.user("mona", role=Role.MODERATOR)
    return db.session.get(User, alice.id), db.session.get(User, mona.id)


def post(author, body="The **red** door opens."):
    comment = comments.post_comment(author, threads.thread_by_key("a-story"), body)
    db.session.commit()
    return comment


def edit(author, comment, body, minutes=1):
    when = comment.created_at + timedelta(minutes=minutes)
    comments.edit_comment(author, comment, body, now=when)
    db.session.commit()
    return when


def stored(comment):
    return db.session.scalars(
        select(CommentRevision)
        .where(CommentRevision.comment_id == comment.id)
        .order_by(CommentRevision.number)
    ).all()


def test_each_edit_keeps_the_words_it_replaced(people):
    alice, mona = people
    comment = post(alice)
    first = edit(alice, comment, "The **blue** door opens.")
    second = edit(alice, comment, "The blue door opens slowly.", minutes=2)
    kept = stored(comment)
    assert [(r.number, r.body) for r in kept] == [
        (1, "The **red** door opens."),
        (2, "The **blue** door opens."),
    ]
    assert kept[0].html == "<p>The <strong>red</strong> door opens.</p>"
    assert [r.edited_at for r in kept] == [first, second]
    assert {r.editor_id for r in kept} == {alice.id}
    # The moderators read each edit as before -> after, newest first.
    edits = revisions.history(mona, comment)
    assert [(e.number, e.before, e.after) for e in edits] == [
        (2, "The **blue** door opens.", "The blue door opens slowly."),
        (1, "The **red** door opens.", "The **blue** door opens."),
    ]
    assert edits[0].editor.username == "alice"
    diff = str(edits[1].diff)
    assert "<del>" in diff and "red" in diff and "<ins>" in diff and "blue" in diff


def test_saving_the_same_words_is_no_edit(people):
    alice, mona = people
    comment = post(alice)
    edit(alice, comment, "The **red** door opens.")
    assert stored(comment) == []
    assert revisions.history(mona, comment) == []


def test_readers_and_the_author_never_see_the_history(people, make):
    alice, mona = people
    bob = db.session.get(User, make.user("bob").id)
    comment = post(alice)
    edit(alice, comment, "Something else entirely.")
    for viewer in (alice, bob, None):
        with pytest.raises(Forbidden):
            revisions.history(viewer, comment)
    admin = db.session.get(User, make.user("ada", role=Role.ADMIN).id)
    assert len(revisions.history(admin, comment)) == 1
    assert len(revisions.history(mona, comment)) == 1


def test_the_authors_deletion_takes_the_history_a_moderators_keeps_it(people):
    alice, mona = people
    mine = post(alice)
    edit(alice, mine, "Oops, I said too much.")
    comments.delete_comment(alice, mine)
    db.session.commit()
    assert stored(mine) == []
    removed = post(alice, "A rude remark.")
    edit(alice, removed, "A ruder remark.")
    comments.delete_comment(mona, removed)
    db.session.commit()
    assert [r.body for r in stored(removed)] == ["A rude remark."]


def test_erasing_the_account_erases_its_history(people, make):
    alice, mona = people
    bob = db.session.get(User, make.user("bob").id)
    hers = post(alice, "Secret first words.")
    edit(alice, hers, "Second words.")
    his = post(bob, "Bob's first words.")
    edit(bob, his, "Bob's second words.")
    erasure.delete_account(alice, actor=alice)
    db.session.commit()
    left = db.session.scalars(select(CommentRevision.body)).all()
    assert left == ["Bob's first words."]


def test_an_edit_that_loses_a_race_keeps_no_revision(people):
    """Another writer changed the comment since this one read it: the comment's
    lock refuses the edit, and the words it would have replaced are not kept."""
    alice, _ = people
    comment = post(alice)
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(revision=Comment.revision + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(Conflict):
        comments.edit_comment(alice, comment, "Too late.", now=comment.created_at)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CommentRevision)) == 0
    assert db.session.get(Comment, comment.id).body == "The **red** door opens."
