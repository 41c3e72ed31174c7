"""The reader's language: which of the shipped locales a request is served in,
and which way it is written.

Flask-Babel (gettext catalogs in forum/translations/<locale>/LC_MESSAGES/) does
the translating; this module only chooses. In order (CONTRACT.md §6): the
signed-in reader's own choice, else `?lang=xx` (remembered in a cookie), else
the browser's Accept-Language, else English. Only shipped locales are ever
chosen, so a made-up `lang` changes nothing (and never makes a cache entry).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale
from werkzeug.datastructures import LanguageAccept

DEFAULT = "en"
# Languages written right to left (of those a forum might ship).
RTL = {"ar", "he", "fa", "ur", "yi"}
COOKIE = "forum_lang"
COOKIE_SECONDS = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()


def catalogued(directory: Path = TRANSLATIONS) -> list[str]:
    """English and every locale with a catalog in directory (pt_BR as pt-BR)."""
    found = {
        path.parent.parent.name.replace("_", "-")
        for path in directory.glob("*/LC_MESSAGES/messages.po")
    }
    return [DEFAULT, *sorted(found - {DEFAULT})]


def choose(requested, remembered, accept: LanguageAccept, shipped: list[str], own=None) -> str:
    """The locale to serve, from what the request says (see the module's docstring)."""
    by_lower = {tag.lower(): tag for tag in shipped}
    for wish in (own, requested, remembered):
        if isinstance(wish, str) and wish.strip().lower() in by_lower:
            return by_lower[wish.strip().lower()]
    # The browser's wishes, best first; each heard exactly, else by its language
    # alone ("es-MX" gets "es", "pt" gets "pt-BR"), before a less wanted one.
    for wish, _quality in accept or ():
        wish = wish.replace("_", "-").lower()
        if wish in by_lower:
            return by_lower[wish]
        primary = wish.split("-")[0]
        near = [tag for tag in shipped if tag.lower().split("-")[0] == primary]
        if near:
            return by_lower.get(primary, near[0])
    return DEFAULT


def shipped() -> list[str]:
    return current_app.config["FORUM_LOCALES"]


def requested_lang() -> str | None:
    """?lang= when it names a shipped locale (the embed's frame passes data-lang so)."""
    wish = request.args.get("lang")
    if isinstance(wish, str) and wish.strip().lower() in {t.lower() for t in shipped()}:
        return choose(wish, None, None, shipped())
    return None


def select_locale() -> str:
    if "forum_locale" not in g:
        g.forum_locale = choose(
            request.args.get("lang"),
            request.cookies.get(COOKIE),
            request.accept_languages,
            shipped(),
        )
    return g.forum_locale.replace("-", "_")


def html_lang() -> str:
    return str(get_locale() or DEFAULT).replace("_", "-")


def html_dir() -> str:
    return "rtl" if html_lang().split("-")[0] in RTL else "ltr"


def init_app(app: Flask) -> None:
    app.config.setdefault("FORUM_LOCALES", catalogued())
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS)
    )
    app.add_template_global(html_lang)
    app.add_template_global(html_dir)

    @app.after_request
    def remember_language(response):
        # ?lang= is remembered, except inside publishers' pages: a frame's cookie
        # is theirs to keep or lose, and data-lang says it every time anyway.
        chosen = requested_lang() if request.blueprint != "embed" else None
        if chosen is not None and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(
                COOKIE,
                chosen,
                max_age=COOKIE_SECONDS,
                samesite="Lax",
                secure=app.config.get("SESSION_COOKIE_SECURE", False),
                httponly=True,
            )
        if len(shipped()) > 1:
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response
