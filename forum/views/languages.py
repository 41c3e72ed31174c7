"""The scripts' strings per language (/i18n/<locale>.js), cached by browsers for
a year under a URL that changes with them."""

from flask import Blueprint, abort

from forum import i18n

bp = Blueprint("languages", __name__)

YEAR = 365 * 24 * 3600


@bp.get("/i18n/<tag>.js")
def script_catalog(tag: str):
    shipped = i18n.shipped_tag(tag)
    if shipped is None or shipped != tag:
        abort(404)
    text, _version = i18n.script_catalog(shipped)
    return (
        text,
        200,
        {
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": f"public, max-age={YEAR}, immutable",
        },
    )
