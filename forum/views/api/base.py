"""The API blueprint, how it authenticates, and the helpers every endpoint uses."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext
from werkzeug.exceptions import UnsupportedMediaType

from forum import addresses
from forum.errors import Unauthorized, ValidationError
from forum.extensions import csrf
from forum.services.accounts import accounts
from forum.services.discussion import sites
from forum.views.api import schemas

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below, only for cookie-authenticated requests

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# These neither read nor set the session cookie, and what they answer goes to the
# caller alone: a page elsewhere that makes its visitors' browsers call them gets
# nothing.
NO_COOKIE_ENDPOINTS = {"api.create_token", "api.openapi"}
# Registration is not one of them: a page elsewhere could make its visitors open
# accounts (and send confirmation emails) from their addresses. With the session
# cookie it needs the CSRF header like any cookie call; without one, a JSON body,
# which a page elsewhere cannot send without a CORS preflight (never granted).
REGISTRATION = "api.create_user"
# A guest's comment (FORUM_GUESTS=on) is the same: the embed's frame posts it
# without cookies, so it needs none, and then it must come as JSON.
COOKIELESS_JSON = {REGISTRATION, "api.create_comment"}


@bp.before_request
def authenticate():
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized(gettext("Send Authorization: Bearer <token>."))
        token = accounts.token_for(raw.strip())
        if token is None:
            raise Unauthorized(gettext("That token is unknown, expired or revoked."))
        g.api_token = token
        g._login_user = token.user  # Flask-Login's user for this request only
    elif request.method in UNSAFE:
        cookie = current_app.config["SESSION_COOKIE_NAME"] in request.cookies
        if request.endpoint in COOKIELESS_JSON and not cookie:
            if not request.is_json:
                raise UnsupportedMediaType(
                    gettext("Send the body as JSON (Content-Type: application/json).")
                )
        elif request.endpoint not in NO_COOKIE_ENDPOINTS and current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect()  # raises CSRFError -> 400 csrf_failed


# Read by publishers' pages (embed.js) from their own origin: cross-origin reads
# are allowed for the origins allowed to embed, and never with credentials.
CROSS_ORIGIN_ENDPOINTS = {"api.counts"}


@bp.after_request
def no_store(response):
    if request.endpoint in CROSS_ORIGIN_ENDPOINTS:
        response.headers.add("Vary", "Origin")
        origin = request.headers.get("Origin")
        if origin and sites.is_allowed(origin):
            response.headers["Access-Control-Allow-Origin"] = addresses.normalize_origin(origin)
        if response.status_code == 200:
            response.headers.setdefault("Cache-Control", "public, max-age=30")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def body() -> dict:
    """The request's JSON object; raises ValidationError for anything else."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise ValidationError(gettext("Send a JSON object as the request body."))
    return data


def read(model: type[schemas.Request]) -> dict:
    """The request's JSON object checked against its schema: the fields sent,
    nothing else.  Raises ValidationError naming unknown or ill-typed fields."""
    return schemas.check(model, body())


def created(payload: dict):
    return jsonify(payload), 201


def no_content():
    return "", 204
