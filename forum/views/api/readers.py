"""A reader's notifications and the threads they follow."""

from __future__ import annotations

from flask import request
from flask_babel import gettext
from flask_login import current_user

from forum import permissions
from forum.errors import NotFound, ValidationError
from forum.extensions import db
from forum.models import is_id
from forum.services.accounts import accounts, people
from forum.services.discussion import theories, threads
from forum.services.notify import notifications
from forum.views.api import schemas
from forum.views.api.base import bp, no_content, read
from forum.views.api.serializers import comment_json, user_json
from forum.views.formatting import iso
from forum.views.negotiation import acting_user
from forum.views.params import parse_id


def _reader():
    permissions.require_signed_in(current_user)
    return acting_user()


@bp.get("/users/<username>")
def profile(username):
    """A reader's public profile: who, their theory record, their latest theories."""
    user = _named(username)
    record = theories.record(user)
    return {
        "user": user_json(user, current_user),
        "bio": user.bio,
        "record": {"confirmed": record.confirmed, "debunked": record.debunked, "open": record.open},
        "theories": [
            comment_json(t, t.thread.key, current_user) for t in theories.by_author(user, 20)
        ],
    }


@bp.put("/users/<username>/mute")
def mute_user(username):
    people.mute(_reader(), _named(username))
    db.session.commit()
    return no_content()


@bp.delete("/users/<username>/mute")
def unmute_user(username):
    people.unmute(_reader(), _named(username))
    db.session.commit()
    return no_content()


def _named(username):
    user = accounts.find_user(username)
    if user is None:
        raise NotFound(gettext("There is no reader by that name."))
    return user


@bp.get("/notifications")
def list_notifications():
    user = _reader()
    items = notifications.inbox(user, before_id=parse_id(request.args.get("before")))
    return {
        "items": [
            {
                "id": note.id,
                "kind": note.kind.value,
                "text": str(notifications.describe(note)),
                "detail": note.detail or None,
                "comment_id": note.comment_id,
                "thread_key": note.comment.thread.key if note.comment else None,
                "actor": note.actor.username if note.actor else None,
                "created_at": iso(note.created_at),
                "read": note.read_at is not None,
            }
            for note in items
        ],
        "unread": user.unread_count,
    }


@bp.post("/notifications/read")
def read_notifications():
    data = read(schemas.ReadNotifications)
    user = _reader()
    ids = data.get("ids")
    if ids is not None and (
        not isinstance(ids, list) or len(ids) > 1000 or not all(is_id(i) for i in ids)
    ):
        raise ValidationError(
            fields={"ids": gettext("Send a list of notification ids, or nothing.")}
        )
    unread = notifications.mark_read(user, ids)
    db.session.commit()
    return {"unread": unread}


@bp.put("/threads/<key>/follow")
def follow_thread(key):
    notifications.follow(_reader(), threads.thread_shown_by_key(key))
    db.session.commit()
    return no_content()


@bp.delete("/threads/<key>/follow")
def unfollow_thread(key):
    notifications.unfollow(_reader(), threads.thread_shown_by_key(key))
    db.session.commit()
    return no_content()
