"""Avatars: a generated identicon per username, served as SVG."""

from flask import Blueprint, make_response, request
from flask_babel import gettext

from forum import identicon
from forum.errors import NotFound
from forum.services.accounts.accounts import check_username

bp = Blueprint("avatars", __name__)

# The picture depends on nothing but the name, so browsers and proxies may keep it
# a week; the ETag makes a revalidation after that a 304.
MAX_AGE = 7 * 24 * 3600


@bp.get("/avatars/<username>.svg")
def show(username):
    # Deliberately no account lookup: every well-formed name gets an avatar, whether
    # or not such a reader exists, so this URL cannot be used to probe for accounts
    # (and serving it costs no database query).  Malformed names are refused with
    # the rule registration uses.
    if check_username(username):
        raise NotFound(gettext("There is no avatar at this address."))
    response = make_response(identicon.svg(username))
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)
