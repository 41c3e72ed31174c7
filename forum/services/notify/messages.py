"""What an email says: the footer naming the kind a reader opted into, the signed
one-click unsubscribe links, and the message built from an outbox row.

Links come from forum.links (FORUM_BASE_URL), never from a request's host.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import format_datetime, parseaddr

from flask import current_app
from flask_babel import gettext
from flask_mailman import EmailMessage
from itsdangerous import BadData, URLSafeTimedSerializer

from forum import links, vocabulary
from forum.addresses import is_web_address
from forum.models import NotificationKind, OutboxMessage, User, utcnow


class _KindLabels(Mapping):
    """What each kind is called on the preferences page and in the email footer,
    in the current language: forum.vocabulary's label, read when asked for."""

    def __getitem__(self, kind) -> str:
        return vocabulary.label(NotificationKind(kind))

    def __iter__(self):
        return iter(NotificationKind)

    def __len__(self) -> int:
        return len(NotificationKind)


KIND_LABELS = _KindLabels()

UNSUBSCRIBE_SALT = "forum.mail.unsubscribe"
# Unsubscribe links never expire: an old email must still let its reader opt out,
# and the link can only ever remove one opt-in.
UNSUBSCRIBE_MAX_AGE = None


# -- unsubscribe tokens and links ----------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind: NotificationKind | str) -> str:
    return _serializer().dumps([int(user_id), NotificationKind(kind).value])


def read_unsubscribe_token(token: str) -> tuple[int, NotificationKind] | None:
    """(user id, kind) from a token this site signed, or None for anything else."""
    try:
        payload = _serializer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except (BadData, UnicodeError, ValueError, TypeError):
        return None
    if not (isinstance(payload, list) and len(payload) == 2):
        return None
    user_id, kind = payload
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(kind, str):
        return None
    try:
        return user_id, NotificationKind(kind)
    except ValueError:
        return None


def unsubscribe_url(user: User, kind: NotificationKind | str) -> str:
    return links.external("account.unsubscribe", token=unsubscribe_token(user.id, kind))


def wants_email(user: User, kind: NotificationKind | str) -> bool:
    return NotificationKind(kind).value in (user.email_kinds or [])


def footer(kind: NotificationKind, stop_link: str) -> str:
    """The end of every notification email: why it came, and how to stop it (in
    the current language: the caller writes in the recipient's)."""
    lines = [
        gettext("You get this email because you chose: %(kind)s.", kind=vocabulary.label(kind)),
        gettext("Stop these emails: %(link)s", link=stop_link),
        gettext(
            "Choose which emails you get: %(link)s",
            link=links.external("account.notifications"),
        ),
    ]
    return "\n\n-- \n" + "".join(f"{line}\n" for line in lines)


def one_line(text: str) -> str:
    """A header value on one line: no header injection, no folded subjects."""
    return " ".join(text.split())


# -- the message -----------------------------------------------------------------------

# RFC 5322's limit for a line. Flask-Mailman's messages fold headers at 78, and a
# long unbreakable value (the unsubscribe link) then starts on a line of its own,
# which mail clients read back with a leading space.
LONGEST_HEADER_LINE = 998


class OutboxEmail(EmailMessage):
    """Flask-Mailman's message, with headers folded only where RFC 5322 requires."""

    def message(self):
        mime = super().message()
        mime.policy = mime.policy.clone(max_line_length=LONGEST_HEADER_LINE)
        return mime


def build_message(message: OutboxMessage, sender: str) -> OutboxEmail:
    """The email for one outbox row, from `sender` (FORUM_MAIL_FROM). Needs an app
    context (Flask-Mailman reads its charset there)."""
    created = message.created_at or utcnow()
    headers = {
        "Date": format_datetime(created),
        # Stable for a row, so a retried message is recognised as the same one.
        "Message-ID": f"<outbox.{message.id}.{int(created.timestamp())}@{_domain(sender)}>",
        "Auto-Submitted": "auto-generated",
    }
    url = message.unsubscribe_url or ""
    if is_web_address(url):
        # RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs.
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return OutboxEmail(
        subject=one_line(message.subject),
        body=message.body,
        from_email=sender,
        to=[message.to_address],
        headers=headers,
    )


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2]
    return domain or "localhost"
