"""Readers' profiles and mutes."""

from __future__ import annotations

from flask_babel import gettext, ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forum import i18n, permissions
from forum.errors import ValidationError
from forum.extensions import db
from forum.markup import normalize
from forum.models import Mute, User, utcnow
from forum.services.discussion import thread_pages

BIO_MAX = 300
NAME_MAX = 50


_KEEP = object()


def update_profile(user: User, display_name, bio, locale=_KEEP) -> User:
    """Name, bio and (when given) the language the reader chose: a shipped
    locale's tag, or "" / None to follow the browser.
    Raises ValidationError (display_name, bio, locale)."""
    fields = {}
    if locale is not _KEEP:
        chosen = i18n.shipped_tag(locale) if locale else None
        if locale and chosen is None:
            fields["locale"] = gettext("Choose one of the languages on the list.")
    name = normalize(display_name) if isinstance(display_name, str) else ""
    bio = normalize(bio) if isinstance(bio, str) else ""
    if not 1 <= len(name) <= NAME_MAX:
        fields["display_name"] = gettext("Use 1 to %(max)s characters.", max=NAME_MAX)
    if len(bio) > BIO_MAX:
        fields["bio"] = ngettext(
            "Keep it under %(num)s character.", "Keep it under %(num)s characters.", BIO_MAX
        )
    if fields:
        raise ValidationError(fields=fields)
    if name != user.display_name:
        thread_pages.touch_threads_of(user)  # their comments show the name
    user.display_name = name
    user.bio = bio
    if locale is not _KEEP:
        user.locale = chosen
    db.session.flush()
    return user


def muted_ids(viewer) -> set[int]:
    if not permissions.is_signed_in(viewer):
        return set()
    return set(db.session.scalars(select(Mute.muted_id).where(Mute.user_id == viewer.id)))


def is_muting(viewer, user: User) -> bool:
    return user.id in muted_ids(viewer)


def mute(viewer: User, user: User) -> None:
    permissions.require_signed_in(viewer)
    if viewer.id == user.id:
        raise ValidationError(gettext("You cannot mute yourself."))
    if is_muting(viewer, user):
        return
    try:
        with db.session.begin_nested():
            db.session.add(Mute(user_id=viewer.id, muted_id=user.id, created_at=utcnow()))
    except IntegrityError:
        pass


def unmute(viewer: User, user: User) -> None:
    permissions.require_signed_in(viewer)
    db.session.execute(
        Mute.__table__.delete().where(Mute.user_id == viewer.id, Mute.muted_id == user.id)
    )
