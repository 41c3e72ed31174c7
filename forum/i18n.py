"""The reader's language: which of the shipped locales a request is served in,
and which way it is written.

Flask-Babel (gettext catalogs in forum/translations/<locale>/LC_MESSAGES/) does
the translating; this module only chooses. In order (CONTRACT.md §6): the
signed-in reader's own choice, else `?lang=xx` (remembered in a cookie), else
the browser's Accept-Language, else English. Only shipped locales are ever
chosen, so a made-up `lang` changes nothing (and never makes a cache entry).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import UTC
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.extract import extract_from_file
from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_babel import Babel, force_locale, get_locale, get_translations, gettext
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept

DEFAULT = "en"
# Languages written right to left (of those a forum might ship).
RTL = {"ar", "he", "fa", "ur", "yi"}
COOKIE = "forum_lang"
COOKIE_SECONDS = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SCRIPTS = Path(__file__).resolve().parent.parent / "static"

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


def own_choice() -> str | None:
    """The signed-in reader's saved language, if it is still shipped."""
    user = current_user if request else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return shipped_tag(getattr(user, "locale", None))


def shipped_tag(wish) -> str | None:
    """wish as a shipped locale's tag ("pt-br" -> "pt-BR"), or None."""
    if not isinstance(wish, str):
        return None
    return {tag.lower(): tag for tag in shipped()}.get(wish.strip().replace("_", "-").lower())


def select_locale() -> str:
    if not has_request_context():
        # The command line and background work speak English; an email to a
        # reader goes through recipient_language(), which forces theirs.
        return DEFAULT
    if "forum_locale" not in g:
        g.forum_locale = choose(
            request.args.get("lang"),
            request.cookies.get(COOKIE),
            request.accept_languages,
            shipped(),
            own=own_choice(),
        )
    return g.forum_locale.replace("-", "_")


def current() -> str:
    """The locale this request is served in, as a tag ("pt-BR")."""
    return html_lang()


@contextlib.contextmanager
def recipient_language(user):
    """Write what follows (an email) in user's language: their own choice, else
    English.  A reader who signs up is given the language they signed up in."""
    tag = shipped_tag(getattr(user, "locale", None)) or DEFAULT
    with force_locale(tag.replace("-", "_")):
        yield


def format_moment(moment, zone: bool = True) -> str:
    """A date and time a person reads at a glance, in this request's language and
    always in UTC: "Nov 24, 2026, 05:30 UTC", "24 nov 2026, 05:30 UTC"."""
    moment = moment.astimezone(UTC)
    locale = get_locale() or Locale.parse(DEFAULT)
    day = format_date(moment, "medium", locale=locale)
    clock = format_time(moment, "HH:mm", tzinfo=UTC, locale=locale)
    text = locale.datetime_formats["medium"].format(clock, day)
    return f"{text} UTC" if zone else text


def language_names() -> list[tuple[str, str]]:
    """(tag, the language's own name) for every shipped locale: "Español", "日本語"."""
    return _names(tuple(shipped()))


@cache
def _names(tags: tuple[str, ...]) -> list[tuple[str, str]]:
    names = []
    for tag in tags:
        try:
            name = Locale.parse(tag, sep="-").get_display_name() or tag
        except (ValueError, LookupError):
            name = tag
        names.append((tag, name[:1].upper() + name[1:]))
    return names


def language_links() -> list[dict]:
    """This page in each shipped language (its own address with ?lang=), for the
    footer of a visitor's page; [] when only one ships.  Relative addresses, never
    built from the request's host."""
    if len(shipped()) < 2:
        return []
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    here = current()
    links = []
    for tag, name in language_names():
        query = urlencode([*args, ("lang", tag)])
        links.append(
            {"tag": tag, "name": name, "href": f"{request.path}?{query}", "current": tag == here}
        )
    return links


# -- the scripts' strings ------------------------------------------------------------


@cache
def script_messages(directory: Path = SCRIPTS) -> tuple[tuple[str, ...], ...]:
    """Every gettext("…") and ngettext("…", "…", n) in static/, read once: the
    msgids a page's scripts may ask for (1-tuples and 2-tuples for plurals)."""
    found: dict[tuple[str, ...], None] = {}
    for path in sorted(directory.rglob("*.js")):
        for _line, message, _comments, _context in extract_from_file(
            "javascript", str(path), keywords={"gettext": None, "ngettext": (1, 2)}
        ):
            if isinstance(message, str):
                found[(message,)] = None
            elif isinstance(message, tuple | list) and len(message) >= 2:
                found[(message[0], message[1])] = None
    return tuple(found)


# One number of each CLDR plural category, to ask gettext which form it takes.
def _samples(locale) -> dict[str, int]:
    rule = locale.plural_form
    samples: dict[str, int] = {}
    for n in range(0, 1001):
        samples.setdefault(rule(n), n)
    return samples


_catalog_cache: dict[str, tuple[str, str]] = {}


def script_catalog(tag: str | None = None) -> tuple[str, str]:
    """The scripts' strings in a language (this request's by default), as the
    text of a script that sets window.forumCatalog, and a short hash of it for
    the URL (so browsers keep it for a year and fetch it again when it changes).
    {msgid: text}, and for plurals {singular: {"one": ..., "other": ...}} keyed
    by Intl.PluralRules' categories.  Built once per locale and process."""
    tag = tag or current()
    if tag not in _catalog_cache:
        catalog: dict[str, object] = {}
        if tag != DEFAULT:
            with force_locale(tag.replace("-", "_")):
                samples = _samples(get_locale())
                translations = get_translations()
                for message in script_messages():
                    if len(message) == 1:
                        catalog[message[0]] = gettext(message[0])
                    else:
                        catalog[message[0]] = {
                            category: translations.ungettext(message[0], message[1], n)
                            for category, n in samples.items()
                        }
        data = json.dumps(catalog, ensure_ascii=False, sort_keys=True)
        text = f"window.forumCatalog = {data};\n"
        _catalog_cache[tag] = (text, hashlib.sha256(text.encode()).hexdigest()[:12])
    return _catalog_cache[tag]


def script_catalog_url() -> str | None:
    """Where this page's scripts find their strings; None in English (they fall
    back to their own text)."""
    tag = current()
    if tag == DEFAULT:
        return None
    return url_for("languages.script_catalog", tag=tag, v=script_catalog(tag)[1])


def html_lang() -> str:
    return str(get_locale() or DEFAULT).replace("_", "-")


def html_dir() -> str:
    return "rtl" if html_lang().split("-")[0] in RTL else "ltr"


def configured(wanted, available: list[str]) -> list[str]:
    """FORUM_LOCALES ("en es ar", or a list) as shipped tags: only those with a
    catalog, English always first.  Unknown tags are dropped, not fatal."""
    if wanted is None or wanted == "":
        return available
    if isinstance(wanted, str):
        wanted = wanted.replace(",", " ").split()
    by_lower = {tag.lower(): tag for tag in available}
    chosen = [
        by_lower[w.replace("_", "-").lower()]
        for w in wanted
        if isinstance(w, str) and w.replace("_", "-").lower() in by_lower
    ]
    return [DEFAULT, *dict.fromkeys(tag for tag in chosen if tag != DEFAULT)]


def init_app(app: Flask) -> None:
    locales = app.config.get("FORUM_LOCALES")
    if isinstance(locales, str) or locales is None:
        # From the environment: checked against the catalogs.  A list given by
        # the application factory (tests) is taken as it is.
        app.config["FORUM_LOCALES"] = configured(locales, catalogued())
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS)
    )
    app.add_template_global(html_lang)
    app.add_template_global(html_dir)
    app.add_template_global(script_catalog_url)
    app.add_template_global(language_links)
    app.add_template_global(language_names)
    # {% trans %} blocks collapse their whitespace, as `make messages` extracts them.
    app.jinja_env.policies["ext.i18n.trimmed"] = True

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
