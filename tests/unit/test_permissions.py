"""The permission predicates as truth tables."""

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin

from forum import permissions
from forum.models import Comment, CommentStatus, Role, Thread, ThreadStatus, User, utcnow
from forum.services.discussion import visibility

ANON = AnonymousUserMixin()


def user(uid, role=Role.READER):
    u = User(id=uid, username=f"u{uid}", role=role)
    return u


READER, OTHER, MOD, ADMIN = user(1), user(2), user(3, Role.MODERATOR), user(4, Role.ADMIN)


def comment(status=CommentStatus.APPROVED, author=READER, age=timedelta(minutes=1), closed=False):
    thread = Thread(status=ThreadStatus.CLOSED if closed else ThreadStatus.OPEN)
    return Comment(
        thread=thread,
        author_id=author.id,
        status=status,
        created_at=utcnow() - age,
    )


@pytest.mark.parametrize(
    ("who", "status", "visible"),
    [
        (ANON, CommentStatus.APPROVED, True),
        (ANON, CommentStatus.PENDING, False),
        (READER, CommentStatus.PENDING, True),  # the author
        (OTHER, CommentStatus.PENDING, False),
        (MOD, CommentStatus.PENDING, True),
        (OTHER, CommentStatus.REJECTED, False),
        (READER, CommentStatus.SPAM, True),  # its author sees it as awaiting moderation
        (OTHER, CommentStatus.SPAM, False),
        (READER, CommentStatus.REJECTED, True),  # with the moderator's reason
        (ADMIN, CommentStatus.SPAM, True),
        (OTHER, CommentStatus.DELETED, False),
    ],
)
def test_can_view(who, status, visible):
    assert visibility.can_view(who, comment(status)) is visible


@pytest.mark.parametrize(
    ("who", "age", "status", "allowed"),
    [
        (READER, timedelta(minutes=14), CommentStatus.APPROVED, True),
        (READER, timedelta(minutes=16), CommentStatus.APPROVED, False),
        (READER, timedelta(minutes=1), CommentStatus.PENDING, True),
        (READER, timedelta(minutes=1), CommentStatus.DELETED, False),
        (READER, timedelta(minutes=1), CommentStatus.REJECTED, False),
        (OTHER, timedelta(minutes=1), CommentStatus.APPROVED, False),
        (MOD, timedelta(minutes=1), CommentStatus.APPROVED, False),  # moderators do not rewrite
        (ANON, timedelta(minutes=1), CommentStatus.APPROVED, False),
    ],
)
def test_can_edit(who, age, status, allowed):
    assert permissions.can_edit(who, comment(status, age=age), utcnow(), 15) is allowed


@pytest.mark.parametrize(
    ("who", "status", "allowed"),
    [
        (READER, CommentStatus.APPROVED, True),
        (READER, CommentStatus.PENDING, True),
        (OTHER, CommentStatus.APPROVED, False),
        (MOD, CommentStatus.APPROVED, True),
        (ADMIN, CommentStatus.APPROVED, True),
        (ANON, CommentStatus.APPROVED, False),
        (READER, CommentStatus.DELETED, False),
    ],
)
def test_can_delete(who, status, allowed):
    assert permissions.can_delete(who, comment(status)) is allowed


@pytest.mark.parametrize(
    ("who", "closed", "allowed"),
    [
        (ANON, False, False),
        (READER, False, True),
        (READER, True, False),
        (MOD, True, True),
        (ADMIN, True, True),
    ],
)
def test_can_post(who, closed, allowed):
    thread = Thread(status=ThreadStatus.CLOSED if closed else ThreadStatus.OPEN)
    assert permissions.can_post(who, thread) is allowed


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (CommentStatus.APPROVED, True),
        (CommentStatus.PENDING, False),
        (CommentStatus.DELETED, False),
        (CommentStatus.SPAM, False),
    ],
)
def test_can_reply(status, allowed):
    assert permissions.can_reply(OTHER, comment(status)) is allowed


def test_require_raises():
    with pytest.raises(permissions.Forbidden):
        permissions.require(False)
    with pytest.raises(permissions.Unauthorized):
        permissions.require_signed_in(ANON)
    with pytest.raises(permissions.ThreadClosed):
        permissions.require_can_post(READER, Thread(status=ThreadStatus.CLOSED))
