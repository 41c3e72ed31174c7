"""Moderation settings that admins change in the UI; the defaults live here.

Settings of kind "secret" are stored sealed (forum.secretbox): current() gives
them as stored, secret() opens one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from forum import secretbox
from forum.addresses import is_web_address
from forum.errors import ValidationError
from forum.extensions import db
from forum.models import Setting


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # a lazy string: in the language of the page that shows it
    kind: str  # "words", "choice", "int", "float", "text", "secret"
    default: object
    help: str = ""
    choices: tuple[str, ...] = ()
    low: float = 0
    high: float = 10**6


# The settings page's words, translated when the page shows them.
FIELDS = [
    Field(
        "banned_words",
        lazy_gettext("Banned words and phrases"),
        "words",
        [],
        lazy_gettext("One per line. Comments containing them are refused or held as spam."),
    ),
    Field(
        "banned_action",
        lazy_gettext("When a banned word is found"),
        "choice",
        "refuse",
        lazy_gettext("Refuse the comment with a message, or accept it into the Spam queue."),
        choices=("refuse", "spam"),
    ),
    Field(
        "suspect_words",
        lazy_gettext("Suspect words and phrases"),
        "words",
        [],
        lazy_gettext(
            "One per line. Comments containing them wait in Pending, the word highlighted."
        ),
    ),
    Field(
        "banned_email_domains",
        lazy_gettext("Banned email domains"),
        "words",
        [],
        lazy_gettext("One per line, e.g. spam.example. Their accounts cannot post."),
    ),
    Field(
        "premoderated_email_domains",
        lazy_gettext("Pre-moderated email domains"),
        "words",
        [],
        lazy_gettext("One per line. Every comment from these accounts waits in Pending."),
    ),
    Field(
        "max_links",
        lazy_gettext("Links allowed before a hold"),
        "int",
        2,
        lazy_gettext("A comment with more links waits in Pending."),
        high=1000,
    ),
    Field(
        "duplicate_hours",
        lazy_gettext("Duplicate window (hours)"),
        "int",
        24,
        lazy_gettext("The same text from the same account within this window goes to Spam."),
        high=24 * 365,
    ),
    Field(
        "new_account_minutes",
        lazy_gettext("New account age (minutes)"),
        "int",
        30,
        lazy_gettext("Accounts younger than this…"),
        high=10**6,
    ),
    Field(
        "new_account_comments",
        lazy_gettext("…may post this many comments before a hold"),
        "int",
        3,
        high=10**4,
    ),
    Field(
        "rejection_threshold",
        lazy_gettext("Rejection rate that restores pre-moderation"),
        "float",
        0.5,
        lazy_gettext("Share of an account's recent moderated comments rejected or marked spam."),
        high=1,
    ),
    Field(
        "rejection_window",
        lazy_gettext("Recent decisions considered"),
        "int",
        10,
        lazy_gettext("Pre-moderation starts once at least 3 of these decisions exist."),
        low=3,
        high=1000,
    ),
    Field(
        "flag_threshold",
        lazy_gettext("Flags that hide a comment"),
        "int",
        3,
        lazy_gettext("In post-moderation, a comment with this many new flags waits for review."),
        low=1,
        high=1000,
    ),
    Field(
        "trusted_after",
        lazy_gettext("Approved comments before an account is trusted"),
        "int",
        3,
        lazy_gettext("In trusted mode."),
        high=1000,
    ),
    Field(
        "guest_moderation",
        lazy_gettext("Comments from guests (FORUM_GUESTS=on)"),
        "choice",
        "pre",
        lazy_gettext(
            "pre: every guest comment waits in Pending. post: published once the automatic "
            "rules pass; one without the proof of work, or written in seconds, still waits."
        ),
        choices=("pre", "post"),
    ),
    Field(
        "guest_proof_bits",
        lazy_gettext("Guests' proof of work (bits)"),
        "int",
        16,
        lazy_gettext(
            "Work a guest's browser does per comment: each bit doubles it; 16 is a few "
            "hundred milliseconds."
        ),
        low=8,
        high=24,
    ),
    Field(
        "guest_min_seconds",
        lazy_gettext("Guests' least writing time (seconds)"),
        "int",
        3,
        lazy_gettext("A guest comment sent sooner after the form was opened waits in Pending."),
        high=600,
    ),
    Field(
        "hook_url",
        lazy_gettext("External moderation hook URL"),
        "text",
        "",
        lazy_gettext("Optional. Each new or edited comment is POSTed here (JSON, signed)."),
    ),
    Field(
        "hook_secret",
        lazy_gettext("Hook signing secret"),
        "secret",
        "",
        lazy_gettext("HMAC-SHA256 key; the signature is sent as X-Forum-Signature."),
    ),
    Field(
        "alert_webhook_url",
        lazy_gettext("Moderator alerts webhook URL"),
        "text",
        "",
        lazy_gettext(
            "Optional. When a comment is held or hidden by reports, a message is POSTed here "
            "from the outbox (retried until it is taken). A Slack or Discord incoming-webhook "
            "address works with its format below."
        ),
    ),
    Field(
        "alert_webhook_format",
        lazy_gettext("Alerts webhook format"),
        "choice",
        "generic",
        lazy_gettext(
            "generic: this forum's own JSON (see the README). slack or discord: that "
            "service's incoming-webhook message."
        ),
        choices=("generic", "slack", "discord"),
    ),
    Field(
        "alert_webhook_secret",
        lazy_gettext("Alerts webhook signing secret"),
        "secret",
        "",
        lazy_gettext(
            "HMAC-SHA256 key over the body; the signature is sent as X-Forum-Signature. "
            "Without one the alerts go unsigned."
        ),
    ),
]
BY_KEY = {field.key: field for field in FIELDS}


def current() -> dict[str, object]:
    """Every setting: stored values over defaults; read once per request."""
    if "forum_settings" not in g:
        values = {field.key: field.default for field in FIELDS}
        values["trusted_after"] = current_app.config["FORUM_TRUSTED_AFTER"]
        # Site-wide defaults from config (instance/config.py), before the admins' own.
        values.update(current_app.config.get("FORUM_SETTINGS_DEFAULTS", {}))
        for row in db.session.scalars(select(Setting)):
            if row.key in values:
                values[row.key] = row.value
        g.forum_settings = values
    return g.forum_settings


def parse(form: dict[str, str]) -> dict[str, object]:
    """Form text -> typed values; raises ValidationError naming each bad field."""
    values, fields = {}, {}
    for field in FIELDS:
        raw = (form.get(field.key) or "").strip()
        if field.kind == "words":
            values[field.key] = sorted({line.strip() for line in raw.splitlines() if line.strip()})
            if any(len(w) > 100 for w in values[field.key]):
                fields[field.key] = gettext("Keep each entry under 100 characters.")
        elif field.kind == "choice":
            if raw not in field.choices:
                fields[field.key] = gettext(
                    "Choose one of: %(values)s.", values=", ".join(field.choices)
                )
            values[field.key] = raw
        elif field.kind in ("int", "float"):
            try:
                number = int(raw) if field.kind == "int" else float(raw)
            except ValueError:
                fields[field.key] = gettext("Enter a number.")
                continue
            if not field.low <= number <= field.high:
                fields[field.key] = gettext(
                    "Use a number from %(low)s to %(high)s.",
                    low=f"{field.low:g}",
                    high=f"{field.high:g}",
                )
            values[field.key] = number
        elif field.kind == "text":
            if raw and not is_web_address(raw):
                fields[field.key] = gettext(
                    "Use an http:// or https:// address, or leave it empty."
                )
            values[field.key] = raw[:2000]
        else:  # secret: empty keeps the stored one
            if raw:
                values[field.key] = raw[:200]
    if fields:
        raise ValidationError(fields=fields)
    return values


def as_form(changes: dict) -> dict[str, str]:
    """JSON values for some settings -> the settings form as a whole, as text,
    so the API and the page share parse().  Raises ValidationError for a value
    of the wrong type."""
    form, fields = {}, {}
    for field in FIELDS:
        value = changes.get(field.key, current()[field.key] if field.kind != "secret" else "")
        if field.kind == "words":
            if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
                fields[field.key] = gettext("Send a list of strings.")
                continue
            form[field.key] = "\n".join(value)
        elif field.kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                fields[field.key] = gettext("Send a number.")
                continue
            form[field.key] = str(value)
        else:
            if not isinstance(value, str):
                fields[field.key] = gettext("Send a string.")
                continue
            form[field.key] = value
    unknown = set(changes) - set(BY_KEY)
    for key in unknown:
        fields[str(key)[:60]] = gettext("There is no such setting.")
    if fields:
        raise ValidationError(fields=fields)
    return form


def public(values: dict) -> dict:
    """Settings as shown to admins: a secret only says whether it is set."""
    secrets = {f.key: bool(values.get(f.key)) for f in FIELDS if f.kind == "secret"}
    return {**values, **secrets}


def secret(values: dict, key: str) -> str:
    """The secret setting `key` of current() in the clear ("" when unset).
    Raises secretbox.SecretUnreadable when SECRET_KEY changed since it was saved."""
    return secretbox.unseal(values.get(key) or "")


def save(values: dict[str, object]) -> dict[str, tuple[object, object]]:
    """Store changed values, secrets sealed; returns {key: (before, after)} of
    what changed (secrets as given and as stored before: never show them)."""
    before = current()
    changed = {}
    for key, value in values.items():
        stored = value
        if key in BY_KEY and BY_KEY[key].kind == "secret" and value:
            if _same_secret(before, key, value):
                continue
            stored = secretbox.seal(value)
        if before.get(key) != value:
            changed[key] = (before.get(key), value)
            row = db.session.get(Setting, key)
            if row is None:
                db.session.add(Setting(key=key, value=stored))
            else:
                row.value = stored
    g.pop("forum_settings", None)
    db.session.flush()
    return changed


def _same_secret(before: dict, key: str, value: str) -> bool:
    try:
        return secret(before, key) == value
    except secretbox.SecretUnreadable:
        return False  # replacing an unreadable secret is how it is set again
