"""The authors of imported comments: guest users, a display name nobody can sign in as.

One guest per name and email address within a source.  The address only ever
enters a hash (the guest's ImportRecord external id): it is not kept anywhere.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select, update

from forum.extensions import db
from forum.markup import normalize
from forum.models import ImportRecord, User
from forum.ops.imports.items import ascii_fold
from forum.services.accounts.accounts import UNUSABLE_PASSWORD

ANONYMOUS = "Anonymous"
NAME_MAX = 50


def display_name(raw: str | None) -> str:
    return normalize(raw or "")[:NAME_MAX].strip() or ANONYMOUS


def guest_id(name: str, email: str | None) -> str:
    raw = f"{name}\n{(email or '').strip().lower()}"
    return "guest:" + hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


def username_for(name: str, guest: str, attempt: int = 0) -> str:
    """The name's letters and a suffix from the guest's hash: its last 6 letters,
    then 10 if those clash with someone's username, then random ones.  At most
    19 + 1 + 10 characters, within a username's 30."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", ascii_fold(name)).strip("-")[:19].rstrip("-")
    salt = guest[-6 - 4 * attempt :] if attempt < 2 else secrets.token_hex(5)
    return f"{base or 'guest'}-{salt}"


def find_or_create(source: str, names: dict[str, str]) -> tuple[dict[str, int], int]:
    """The user id of each guest (guest id -> display name), creating the ones this
    source has not imported yet (or whose user was removed since); and how many
    were created.  Flushes."""
    if not names:
        return {}, 0
    known = dict(
        db.session.execute(
            select(ImportRecord.external_id, ImportRecord.local_id).where(
                ImportRecord.source == source,
                ImportRecord.kind == "author",
                ImportRecord.external_id.in_(list(names)),
            )
        ).all()
    )
    alive = set(db.session.scalars(select(User.id).where(User.id.in_(set(known.values())))))
    ids = {guest: local for guest, local in known.items() if local in alive}
    users = _new_guests({guest: name for guest, name in names.items() if guest not in ids})
    db.session.flush()
    for guest, user in users.items():
        ids[guest] = user.id
        if guest in known:  # its user was removed here: the record points anew
            db.session.execute(
                update(ImportRecord)
                .where(
                    ImportRecord.source == source,
                    ImportRecord.kind == "author",
                    ImportRecord.external_id == guest,
                )
                .values(local_id=user.id)
            )
        else:
            db.session.add(
                ImportRecord(source=source, kind="author", external_id=guest, local_id=user.id)
            )
    return ids, len(users)


def _new_guests(names: dict[str, str]) -> dict[str, User]:
    usernames: dict[str, str] = {}
    attempt = 0
    while len(usernames) < len(names):
        candidates = {
            guest: username_for(name, guest, attempt)
            for guest, name in names.items()
            if guest not in usernames
        }
        wanted = {username.lower() for username in candidates.values()}
        taken = set(
            db.session.scalars(select(User.username_key).where(User.username_key.in_(wanted)))
        )
        for guest, username in candidates.items():
            if username.lower() not in taken:
                taken.add(username.lower())
                usernames[guest] = username
        attempt += 1
    users = {}
    for guest, username in usernames.items():
        users[guest] = User(
            username=username,
            username_key=username.lower(),
            email=None,
            email_key=None,
            display_name=names[guest],
            password_hash=UNUSABLE_PASSWORD,
            is_guest=True,
        )
        db.session.add(users[guest])
    return users
