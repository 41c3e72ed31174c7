"""Who sees which comment: one truth table, every form of each rule held to it.

Comments in every status are written to the database; each kind of viewer then
asks through every form of the rules in forum.services.discussion.visibility
(the Python predicate over the loaded Comment, the SQL clauses run as real
queries, the test over the rows a page reads) and through the readers built on
them (the article pages' trees, the API's row pages).  All must give the
expected table below, stated in full.
"""

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.models import Comment, CommentStatus, Role, Thread, User, utcnow
from forum.services.discussion import comments, thread_pages, threads, trees, visibility
from forum.services.moderation import bans

A, P, S, R, D = (
    CommentStatus.APPROVED,
    CommentStatus.PENDING,
    CommentStatus.SPAM,
    CommentStatus.REJECTED,
    CommentStatus.DELETED,
)
VIEWERS = ("anonymous", "author", "other reader", "banned reader", "moderator", "admin")

# Shown in its thread (not as a tombstone): status -> the viewers who see it.
SHOWN = {
    A: set(VIEWERS),
    P: {"author", "moderator", "admin"},
    S: {"author"},  # its author sees it as awaiting moderation; moderators find it in the queues
    R: {"author"},  # with the moderator's reason
    D: set(),
}
# Opened by its id (permalink, API GET, reply target): status -> the viewers who may.
CAN_VIEW = {
    A: set(VIEWERS),
    P: {"author", "moderator", "admin"},
    S: {"author", "moderator", "admin"},
    R: {"author", "moderator", "admin"},
    D: {"moderator", "admin"},
}
READERS = ("anonymous", "other reader", "banned reader")


def test_held_comments_never_leak_to_readers():
    for table in (SHOWN, CAN_VIEW):
        for status, who in table.items():
            assert (status == A) is all(reader in who for reader in READERS)
            assert status == A or not any(reader in who for reader in READERS)


@pytest.fixture
def world(make, ctx):
    """A thread holding, per status, one top-level comment by "author"; the viewers."""
    author = make.user("writer")
    other = make.user("passerby")
    banned = make.user("troll")
    moderator = make.user("keeper", role=Role.MODERATOR)
    admin = make.user("boss", role=Role.ADMIN)
    slug = make.article("every-status")
    thread = threads.thread_by_key(slug)
    writer = db.session.get(User, author.id)
    ids = {}
    for status in CommentStatus:
        comment = comments.add_comment(thread, writer, None, f"A {status} comment.", status)
        ids[status] = comment.id
    bans.ban(
        db.session.get(User, admin.id),
        db.session.get(User, banned.id),
        "Trolling",
        utcnow() + timedelta(days=3),
    )
    thread_id = thread.id
    db.session.commit()
    db.session.expunge_all()
    viewers = {
        "anonymous": AnonymousUserMixin(),
        "author": db.session.get(User, author.id),
        "other reader": db.session.get(User, other.id),
        "banned reader": db.session.get(User, banned.id),
        "moderator": db.session.get(User, moderator.id),
        "admin": db.session.get(User, admin.id),
    }
    assert viewers["banned reader"].is_banned(utcnow())
    return thread_id, ids, viewers


def _ids_where(clause, model=Comment, values=None) -> set[int]:
    return set(db.session.scalars(select(model.id).where(clause), values or {}))


def test_every_form_agrees_with_the_table(world):
    thread_id, ids, viewers = world
    assert set(ids) == set(CommentStatus) == set(SHOWN) == set(CAN_VIEW)
    thread = db.session.get(Thread, thread_id)
    status_of = {i: status for status, i in ids.items()}
    everything = set(ids.values())
    for name, viewer in viewers.items():
        expected = {ids[status] for status, who in SHOWN.items() if name in who}
        signed_in, me = name != "anonymous", getattr(viewer, "id", None)
        moderator = name in ("moderator", "admin")
        alias = aliased(Comment)
        # The rows exactly as the API's pages read them (status as its string).
        rows = db.session.connection().execute(
            thread_pages._TREE, {"roots": sorted(everything), "under": []}
        )
        row_test = visibility.shown_row_test(viewer)
        forms = {
            "predicate": {
                i for i in everything if visibility.is_shown(viewer, db.session.get(Comment, i))
            },
            "SQL": _ids_where(visibility.shown_sql(viewer)) & everything,
            "SQL over an alias": _ids_where(visibility.shown_sql(viewer, alias), alias)
            & everything,
            # The statements built once per kind of viewer take "me" at execution.
            "SQL for a kind of viewer": _ids_where(
                visibility.shown_clause(Comment, moderator, signed_in),
                values={"me": me} if signed_in else None,
            )
            & everything,
            "row test": {row[0] for row in rows if row_test(row[4], row[3])},
            # A lone top-level comment: visible exactly when shown.
            "top-level SQL": _ids_where(visibility.root_visible(viewer)) & everything,
            # The readers built on the rules: hidden comments without replies are left out.
            "article trees": {n.comment.id for n in trees.load_trees(viewer, sorted(everything))},
            "article trees, replies collapsed": {
                n.comment.id for n in trees.load_trees(viewer, sorted(everything), 3)
            },
            "API page": {
                n.row[0] for n in thread_pages.load_page(thread, viewer, "oldest", 50, None).roots
            },
        }
        for form, seen in forms.items():
            assert seen == expected, (name, form, sorted(status_of[i] for i in seen))
        opens = {i for i in everything if visibility.can_view(viewer, db.session.get(Comment, i))}
        assert opens == {ids[s] for s, who in CAN_VIEW.items() if name in who}, name
