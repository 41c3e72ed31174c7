"""Guests: visitors who comment with a name instead of an account.

Off unless FORUM_GUESTS=on; then every thread takes guests unless an admin
turned them off for the thread or for the publisher's site it lives on
(allowed()). A guest is a User row with is_guest set, as imported authors are:
nobody can sign in as one, and the comment pipeline, moderation queues and
trees treat it like any author. Its name is checked so that it never passes
for a reader's (check_name()); an optional address gets reply notifications
only once the guest opens the link we mail to it (confirm_address()), and a
reader who later registers and confirms the same address may take the comments
over (claim()).

Spam defence needs no third party: the proof of work
(forum.services.accounts.proof), a trap field only robots fill, the time the
form took, and per-address limits (forum.extensions.guest_posting); the verdict
is rules.guest_checks().
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g
from flask_babel import gettext, lazy_gettext
from itsdangerous import BadData, URLSafeTimedSerializer
from limits import parse as parse_limit
from sqlalchemy import func, or_, select, update

from forum import i18n, links
from forum.errors import Unauthorized, ValidationError
from forum.extensions import counters, db
from forum.markup import name_key, normalize
from forum.models import (
    Comment,
    CommentStatus,
    IdempotencyKey,
    NotificationKind,
    Thread,
    User,
    is_id,
    utcnow,
)
from forum.services import single_use
from forum.services.accounts import accounts, proof
from forum.services.accounts.accounts import UNUSABLE_PASSWORD
from forum.services.audit import audit
from forum.services.discussion import sites, thread_pages
from forum.services.notify import outbox

NAME = (2, 50)
# Words a guest may not go by, whoever holds them: they would read as the forum's voice.
RESERVED = {
    name_key(word)
    for word in ("admin", "administrator", "moderator", "mod", "staff", "forum", "system",
                 "deleted", "guest", "anonymous", "support", "team")
}  # fmt: skip
# ...and words that may not appear in a guest's name at all.
STAFF_WORDS = {
    name_key(word)
    for word in ("admin", "administrator", "moderator", "mod", "staff", "official", "sysop")
}
_WORDS = re.compile(r"[\W_]+")
CONFIRM_SALT = "forum.guest-address"
CONFIRM_PURPOSE = "guest-address"
CONFIRM_MAX_AGE = timedelta(days=3)
CONFIRM_MAILS = parse_limit("3 per day")
GUESTS_OFF = lazy_gettext("Sign in to comment: this discussion does not take comments from guests.")
NO_NAME = lazy_gettext("Sign in, or give a name to comment as a guest.")


@dataclass(frozen=True)
class Signals:
    """What the form says about who filled it, for rules.guest_checks()."""

    proof: proof.Proof
    trap_filled: bool = False


def enabled() -> bool:
    return bool(current_app.config["FORUM_GUESTS"])


def allowed(thread: Thread) -> bool:
    """May guests post in this thread? FORUM_GUESTS, then the thread's own
    switch, then its publisher's site's (threads of our own articles have none).
    Kept for the request: a page asks once per comment."""
    if not enabled() or not thread.allow_guests:
        return False
    if thread.origin is None:
        return True
    known = g.setdefault("guest_sites", {})
    if thread.origin not in known:
        site = sites.site_for(thread.origin)
        known[thread.origin] = site is None or site.allow_guests
    return known[thread.origin]


def can_post(viewer, thread: Thread) -> bool:
    """The guest composer's rule: a visitor without an account, an open thread
    that takes guests."""
    signed_in = viewer is not None and viewer.is_authenticated
    return not signed_in and thread.is_open and allowed(thread)


def can_reply(viewer, comment: Comment, thread: Thread) -> bool:
    """May this visitor answer the comment as a guest?"""
    return comment.status == CommentStatus.APPROVED and can_post(viewer, thread)


def check_name(raw) -> str:
    """The guest's name as stored; raises ValidationError (guest_name)."""
    if not isinstance(raw, str):
        raise ValidationError(fields={"guest_name": gettext("Give a name to post under, as text.")})
    name = " ".join(normalize(raw).split())
    low, high = NAME
    if not low <= len(name) <= high:
        raise ValidationError(
            fields={
                "guest_name": gettext("Use %(low)s to %(high)s characters.", low=low, high=high)
            }
        )
    key = name_key(name)
    if len(key) < low or not any(ch.isalnum() for ch in name):
        raise ValidationError(
            fields={"guest_name": gettext("Use a name with letters or digits in it.")}
        )
    if _speaks_for_the_forum(name, key) or _taken(key):
        raise ValidationError(
            fields={"guest_name": gettext("That name belongs to a reader here; choose another.")}
        )
    return name


def _taken(key: str) -> bool:
    """Whether a reader's username or display name reads like this name key."""
    return (
        db.session.scalar(
            select(User.id)
            .where(
                User.is_guest.is_(False),
                or_(User.display_key == key, User.handle_key == key),
            )
            .limit(1)
        )
        is not None
    )


def _speaks_for_the_forum(name: str, key: str) -> bool:
    """The whole name, or any word of it, is one of the forum's own voices
    ("Admin", "Forum Staff", "Moderator Jane")."""
    words = {name_key(word) for word in _WORDS.split(name) if word}
    return key in RESERVED or bool(words & STAFF_WORDS)


def check_identity(name_raw, email_raw) -> tuple[str, str | None]:
    """(name, address or None) as stored; raises ValidationError naming every
    field at fault at once."""
    fields, name, email = {}, None, None
    for check, raw in ((check_name, name_raw), (check_email, email_raw)):
        try:
            value = check(raw)
        except ValidationError as error:
            fields.update(error.fields)
            continue
        if check is check_name:
            name = value
        else:
            email = value
    if fields:
        raise ValidationError(fields=fields)
    return name, email


def check_email(raw) -> str | None:
    """The normalized address, None when none was given; raises ValidationError."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    address, problem = accounts.normalize_email(raw)
    if problem:
        raise ValidationError(fields={"guest_email": problem})
    return address


def guest_for(name_raw, email_raw, known_id=None, key=None, thread_id=None) -> tuple[User, bool]:
    """The guest User to post as, and whether it is new (its address then
    needs confirming). `known_id` is the guest this browser posted as before
    (from its session), `key` the submission's idempotency key in the thread
    `thread_id`: either finds the same guest again when the name and address
    are the same.
    Raises ValidationError naming each of guest_name and guest_email at fault."""
    name, email = check_identity(name_raw, email_raw)
    return _guest(name, email, known_id, key, thread_id)


def _guest(name: str, email: str | None, known_id, key, thread_id) -> tuple[User, bool]:
    email_key = email.lower() if email else None
    if is_id(known_id):
        known = db.session.get(User, known_id)
        if (
            known is not None
            and known.is_guest
            and known.deleted_at is None
            and known.display_name == name
            and known.email_key == email_key
        ):
            return known, False
    if key is not None and thread_id is not None:
        # A retry of a submission already taken (the embed's frame has no session
        # to remember its guest by): the same guest, so the retry gets its comment.
        earlier = db.session.scalar(
            select(User)
            .join(IdempotencyKey, IdempotencyKey.user_id == User.id)
            .join(Comment, Comment.id == IdempotencyKey.comment_id)
            .where(
                IdempotencyKey.key == key,
                Comment.thread_id == thread_id,
                User.is_guest.is_(True),
                User.deleted_at.is_(None),
                User.display_name == name,
                User.email_key.is_(None) if email_key is None else User.email_key == email_key,
            )
            .limit(1)
        )
        if earlier is not None:
            return earlier, False
    username = f"guest-{secrets.token_hex(6)}"
    guest = User(
        username=username,
        username_key=username,
        display_name=name,
        email=email,
        email_key=email_key,
        password_hash=UNUSABLE_PASSWORD,
        is_guest=True,
        email_kinds=[],  # no mail at all until the address is confirmed
        created_at=utcnow(),
        # The language the guest wrote in: their confirmation email comes in it.
        locale=accounts.signup_locale(),
    )
    db.session.add(guest)
    db.session.flush()
    return guest, True


def arrive(thread: Thread, name, email, proof_data, trap, known_id=None, key=None):
    """A visitor without an account about to post in thread: (the guest User,
    its Signals for the rules). A new guest's address is mailed its link.
    Raises Unauthorized (401, as for any visitor) where guests may not post or
    no name was given, ValidationError (guest_name, guest_email) for a bad one."""
    if not allowed(thread):
        raise Unauthorized(GUESTS_OFF)
    if name is None:
        raise Unauthorized(NO_NAME)
    name, address = check_identity(name, email)
    # Per address, whoever posts: guests cost no account, so without this anyone
    # could have the forum mail a stranger again and again. Counted before any
    # write of the request (on SQLite the counters wait for its lock otherwise).
    may_mail = address is not None and counters.hit(
        CONFIRM_MAILS, "guest-confirm-mail", address.lower()
    )
    guest, is_new = _guest(name, address, known_id, key, thread.id)
    if is_new and may_mail:
        send_confirmation(guest)
    return guest, Signals(proof=proof.check(proof_data), trap_filled=bool(trap))


# -- the guest's address ------------------------------------------------------------


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=CONFIRM_SALT)


def send_confirmation(guest: User) -> bool:
    """Mail the guest a link that confirms their address; False if there is none."""
    if not guest.is_guest or not guest.email or guest.email_verified_at is not None:
        return False
    token = _signer().dumps([guest.id, guest.email_key, secrets.token_hex(8)])
    link = links.external("guests.confirm", token=token)
    with i18n.recipient_language(guest):
        outbox.enqueue_account_email(
            guest,
            guest.email,
            gettext("Confirm your address to hear about replies"),
            gettext(
                "Hello %(name)s,\n\nYou commented as a guest and left this address for "
                "replies. Open this link to confirm it is yours:\n%(link)s\n\nUntil you do, "
                "we send nothing more. The link works for three days and once. If this was "
                "not you, ignore this email.",
                name=guest.display_name,
                link=link,
            ),
        )
    return True


def confirm_address(token) -> User | None:
    """Confirm a guest's address from the mailed link (once); the guest, or None
    for a bad, stale or used link."""
    if not isinstance(token, str) or len(token) > 500:
        return None
    try:
        payload, issued = _signer().loads(
            token, max_age=int(CONFIRM_MAX_AGE.total_seconds()), return_timestamp=True
        )
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    if not (isinstance(payload, list) and len(payload) == 3 and is_id(payload[0])):
        return None
    guest = db.session.get(User, payload[0])
    if guest is None or not guest.is_guest or guest.email_key != payload[1]:
        return None
    if not single_use.spend(CONFIRM_PURPOSE, str(payload[2]), issued + CONFIRM_MAX_AGE):
        return None
    if guest.email_verified_at is None:
        guest.email_verified_at = utcnow()
        guest.email_kinds = [NotificationKind.REPLY.value]
    return guest


# -- claiming -----------------------------------------------------------------------------


def _claimable_guests(user: User):
    return select(User.id).where(
        User.is_guest.is_(True),
        User.deleted_at.is_(None),
        User.email_key == user.email_key,
        User.email_verified_at.is_not(None),
    )


def claimable(user: User) -> int:
    """How many guest comments this reader may take over: those posted with
    their address, confirmed by the guest, when the reader's own is confirmed."""
    if user.is_guest or not user.email_key or user.email_verified_at is None:
        return 0
    return db.session.scalar(
        select(func.count(Comment.id)).where(Comment.author_id.in_(_claimable_guests(user)))
    )


def claim(user: User) -> int:
    """Move the guest comments claimable() counts to the reader; how many moved."""
    if claimable(user) == 0:
        return 0
    guest_ids = list(db.session.scalars(_claimable_guests(user)))
    moved = db.session.execute(
        update(Comment)
        .where(Comment.author_id.in_(guest_ids))
        .values(author_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    # The guests are spent: no later claim by another account can take anything.
    db.session.execute(
        update(User)
        .where(User.id.in_(guest_ids))
        .values(deleted_at=utcnow(), email=None, email_key=None)
        .execution_options(synchronize_session=False)
    )
    thread_pages.touch_threads_of(user)  # their pages show the reader's name now
    audit(user, "claim_guest_comments", user, after={"comments": moved})
    return moved
