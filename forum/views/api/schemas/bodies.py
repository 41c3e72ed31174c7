"""The API's request bodies, as pydantic models the endpoints validate every
JSON body against (forum.views.api.base.read): wrong types, values outside an
enum and fields a request does not have are a 422 validation_error naming the
field.  The rules about content (lengths, banned words, who may act) stay in
the services, which the HTML pages share; the numbers the document shows for
them are read from there."""

from __future__ import annotations

from typing import ClassVar, Literal

from flask_babel import gettext, lazy_gettext
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    create_model,
)
from pydantic import ValidationError as Invalid

from forum.errors import ValidationError
from forum.models import FlagReason, ModerationAction, ModerationMode, Role, ThreadStatus
from forum.services import settings
from forum.services.accounts import accounts, guests, proof
from forum.services.discussion import comments
from forum.views.api.schemas.answers import setting_type


class Request(BaseModel):
    """A JSON body: only these fields, of these types (no coercion of "1" to 1)."""

    model_config = ConfigDict(extra="forbid")
    # What to say about a field sent with the wrong type, where the service's
    # own words say it better than "Write it as text."
    wrong_type: ClassVar[dict[str, object]] = {}  # str or lazy_gettext


Text = StrictStr | None


class Credentials(Request):
    # Missing ones are wrong credentials (401, as the contract says), not a malformed body.
    username: Text = None
    password: Text = None


class SsoExchange(Request):
    sso: StrictStr = Field(
        description="HS256 JWT signed with the site's secret: exp (at most an hour ahead), "
        "sub, jti (used once); optional username, name, email, iat, nbf, aud (the origin)"
    )
    site: StrictStr | None = Field(
        None,
        description="origin of the page the embed is on; if absent, the token header's kid, "
        "or the only site set up for single sign-on",
    )
    wrong_type = {"site": lazy_gettext("Give the page's origin, like https://news.example.")}


class Registration(Request):
    # The rules themselves are the account service's (accounts.register).
    username: StrictStr = Field(json_schema_extra={"pattern": f"^{accounts.USERNAME.pattern}$"})
    email: StrictStr = Field(json_schema_extra={"format": "email"})
    password: StrictStr = Field(
        json_schema_extra={"minLength": accounts.PASSWORD_MIN, "maxLength": accounts.PASSWORD_MAX}
    )


class GuestProof(Request):
    challenge: StrictStr = Field(json_schema_extra={"maxLength": proof.CHALLENGE_MAX})
    nonce: StrictStr = Field(
        json_schema_extra={"maxLength": proof.NONCE_MAX, "pattern": "^[0-9]+$"}
    )


class NewComment(Request):
    body: StrictStr = Field(json_schema_extra={"minLength": 1, "maxLength": comments.BODY_MAX})
    parent_id: StrictInt | None = None
    theory_title: StrictStr | None = Field(
        None,
        json_schema_extra={
            "minLength": comments.THEORY_TITLE[0],
            "maxLength": comments.THEORY_TITLE[1],
        },
    )
    spoiler: StrictBool = False
    # A visitor without an account, where guests are welcome (FORUM_GUESTS=on).
    guest_name: StrictStr | None = Field(
        None,
        json_schema_extra={
            "minLength": guests.NAME[0],
            "maxLength": guests.NAME[1],
            "description": "Without an account, where guests may post: the name to show.",
        },
    )
    guest_email: StrictStr | None = Field(
        None,
        json_schema_extra={
            "maxLength": 254,
            "description": "Optional, for a guest: replies are mailed here once the guest "
            "opens the confirmation link sent to it.",
        },
    )
    guest_proof: GuestProof | None = Field(
        None,
        json_schema_extra={
            "description": "A guest's proof of work for a challenge from "
            "GET /guest-challenge; without a valid one the comment waits for review.",
        },
    )
    guest_website: StrictStr | None = Field(
        None,
        json_schema_extra={
            "description": "Leave out or empty: a trap only robots fill in "
            "(their comments go to Spam)."
        },
    )


class CommentEdit(Request):
    body: StrictStr


class VoteRequest(Request):
    value: StrictInt = Field(ge=-1, le=1, json_schema_extra={"enum": [1, -1, 0]})


class FlagRequest(Request):
    reason: FlagReason
    note: Text = None


class ModerationRequest(Request):
    action: ModerationAction
    reason: Text = Field(None, description="shown to the author")
    note: Text = None
    link: Text = Field(None, json_schema_extra={"format": "uri"})
    revision: StrictInt | None = Field(
        None,
        description="the comment's revision as last read; 409 conflict if it changed since",
    )


class BanRequest(Request):
    until: Text = Field(None, json_schema_extra={"format": "date-time"})
    reason: StrictStr


class NoteRequest(Request):
    body: StrictStr


# "default": the site's setting (FORUM_MODERATION).
ThreadModeration = Literal[(*(mode.value for mode in ModerationMode), "default")]


class ThreadChange(Request):
    status: ThreadStatus | None = None
    moderation: ThreadModeration | None = None
    spoiler_until: Text = Field(
        None,
        json_schema_extra={"format": "date-time"},
        description="until then replies and theories start collapsed",
    )
    guests: StrictBool | None = Field(
        None,
        description="whether guests may post here (with FORUM_GUESTS=on and its site allowing)",
    )


class ReadNotifications(Request):
    ids: list[StrictInt] | None = Field(None, max_length=1000)


class AccountDeletion(Request):
    password: Text = Field(
        None,
        description="the account's password; an account without one (single sign-on) "
        "sends none, and must have signed in within the last 10 minutes",
    )


class AdminDeletion(Request):
    reason: StrictStr = Field(description="why, for the audit log")


class UserChange(Request):
    role: Role | None = None
    reason: Text = Field(None, description="for the audit log")


SettingsChange = create_model(
    "SettingsChange",
    __base__=Request,
    **{field.key: (setting_type(field, answer=False) | None, None) for field in settings.FIELDS},
)


def check(model: type[Request], data: dict) -> dict:
    """The fields sent, validated against model; raises ValidationError naming
    each field that is unknown, missing or of the wrong type or value."""
    try:
        return model.model_validate(data).model_dump(exclude_unset=True)
    except Invalid as error:
        fields: dict[str, str] = {}
        for problem in error.errors(include_url=False, include_input=False):
            name = str(problem["loc"][0])[:60] if problem["loc"] else "body"
            fields.setdefault(name, str(model.wrong_type.get(name) or _why(problem)))
            if len(fields) == FIELDS_NAMED:
                break
        raise ValidationError(fields=fields) from None


# A body of a hundred thousand made-up keys gets an answer of this many, not a
# hundred thousand.
FIELDS_NAMED = 20


_WHY = {
    "extra_forbidden": lazy_gettext("There is no such field in this request."),
    "missing": lazy_gettext("This is required."),
    "string_type": lazy_gettext("Write it as text."),
    "int_type": lazy_gettext("Use a whole number."),
    "bool_type": lazy_gettext("Use true or false."),
    "list_type": lazy_gettext("Send a list."),
}


def _why(problem: dict) -> str:
    if problem["type"] in ("enum", "literal_error"):
        # The values are the API's own (never translated), as pydantic lists them.
        return gettext("Use one of: %(values)s.", values=problem["ctx"]["expected"])
    if problem["type"] in _WHY:
        return str(_WHY[problem["type"]])
    return problem["msg"] + "."  # pydantic's own words, in English only
