"""Admins managing people: finding accounts, changing roles (deleting one is
forum.services.accounts.erasure, banning forum.services.moderation.bans)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext, ngettext
from sqlalchemy import and_, func, select

from forum import permissions
from forum.errors import ValidationError
from forum.extensions import db
from forum.models import Role, User
from forum.services.accounts import sso
from forum.services.accounts.erasure import require_not_last_admin
from forum.services.audit import audit

PAGE = 50
QUERY_MAX = 100
ROLE_VALUES = tuple(role.value for role in Role)


@dataclass
class PeoplePage:
    people: list[User]
    next_after: str | None  # the last username_key shown, for the next page


def _like(text: str) -> str:
    # The search text is matched literally: % and _ are not wildcards here.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(query=None, role=None, after=None, limit: int = PAGE) -> PeoplePage:
    """Live accounts in username order, `limit` at a time (after: the last
    username_key of the page before). A query matches the start of the username or
    the email address, or any part of the display name. Raises ValidationError
    (q, role).

    Three small queries instead of one with OR: the two prefixes each walk their
    own index (a range, so it works whatever the database's collation), and only
    the display name is read row by row, with a limit. OR-ing them made PostgreSQL
    walk the whole username index in order (0.4 s at 200,000 accounts).
    """
    base = select(User).where(User.deleted_at.is_(None))
    if role is not None and role != "":
        base = base.where(User.role == parse_role(role, "role"))
    if isinstance(after, str) and after:
        if "\x00" in after:
            raise ValidationError(
                fields={"after": gettext("Use the next_after of the page before.")}
            )
        base = base.where(User.username_key > after[:60])
    if query is None or query == "":
        return _page(db.session.scalars(base.order_by(User.username_key).limit(limit + 1)), limit)
    if not isinstance(query, str) or len(query) > QUERY_MAX:
        raise ValidationError(
            fields={
                "q": ngettext(
                    "Use at most %(num)s character.", "Use at most %(num)s characters.", QUERY_MAX
                )
            }
        )
    if "\x00" in query:  # no database column holds one (PostgreSQL refuses it outright)
        raise ValidationError(fields={"q": gettext("Leave out the NUL character.")})
    text = query.strip().lower()
    if not text:
        return _page(db.session.scalars(base.order_by(User.username_key).limit(limit + 1)), limit)
    pattern = _like(text)
    wanted = [
        _prefix(User.username_key, text, pattern),
        _prefix(User.email_key, text, pattern),
        func.lower(User.display_name).like(f"%{pattern}%", escape="\\"),
    ]
    found: dict[int, User] = {}
    for clause in wanted:
        rows = db.session.scalars(base.where(clause).order_by(User.username_key).limit(limit + 1))
        found.update((user.id, user) for user in rows)
    return _page(sorted(found.values(), key=lambda user: user.username_key), limit)


def _prefix(column, text: str, pattern: str):
    # The range lets the column's index find the rows; LIKE keeps exactly the prefixed.
    return and_(
        column >= text,
        column < text + _LAST,
        column.like(f"{pattern}%", escape="\\"),
    )


_LAST = chr(0x10FFFF)  # past every character that may follow a prefix


def _page(rows, limit: int) -> PeoplePage:
    rows = list(rows)
    more = len(rows) > limit
    rows = rows[:limit]
    return PeoplePage(rows, rows[-1].username_key if more and rows else None)


def parse_role(value, field: str = "role") -> Role:
    """Raises ValidationError naming field."""
    if not isinstance(value, str) or value not in ROLE_VALUES:
        raise ValidationError(
            fields={field: gettext("Use one of: %(values)s.", values=", ".join(ROLE_VALUES))}
        )
    return Role(value)


def set_role(actor: User | None, user: User, role, reason=None) -> bool:
    """Give the account this role; audited. actor None: the operator's CLI.
    Returns whether anything changed. Raises Forbidden (not an admin; the last
    admin stepping down) or ValidationError (role)."""
    if actor is not None:
        permissions.require(permissions.can_administer(actor), gettext("Admins only."))
    new = parse_role(role)
    if user.deleted_at is not None:
        raise ValidationError(fields={"role": gettext("This account is deleted.")})
    if user.is_guest:
        raise ValidationError(
            fields={"role": gettext("A guest's name has no account to give a role.")}
        )
    # Set by one of ours, even to what it was: no publisher's sign-on takes it back.
    sso.forget_granted_role(user)
    if new == user.role:
        return False
    if new != Role.ADMIN:
        require_not_last_admin(user, "role")
    before = {"role": user.role.value}
    user.role = new
    audit(actor, "set_role", user, reason, before, {"role": new.value})
    db.session.flush()
    return True
