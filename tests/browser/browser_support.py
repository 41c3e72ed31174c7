"""Helpers shared by the browser test modules (tests/browser/test_*.py).

tests/browser/conftest.py checks the tools first (require_browser_tools(): without
Chromium, axe-core or the playwright package the directory is skipped, except
under CI=true, where that is an error) and holds the fixtures (browser,
open_context, state_of, as_user).  Each module runs its app under werkzeug's
threaded WSGI server on 127.0.0.1 (CSRF on, as in production; a port the kernel
picks, so parallel workers never meet) with make_app() and serve(), and imports
the helpers it uses from here.  Its seed data and its own fixtures stay in the
module.

Not collected by pytest: the name does not start with test_.  Nothing here
imports Playwright at module level, so importing it is safe without it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from forum import create_app
from forum.extensions import db

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]  # the repository
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"  # of every account a module's seed registers


# -- the tools -----------------------------------------------------------------------


def _missing() -> list[str]:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        missing.append(f"{AXE.relative_to(ROOT)} (npm ci)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package (pip install -e '.[dev]')")
    return missing


def require_browser_tools() -> None:
    """Skip the calling module (or conftest: its directory) without the tools;
    under CI=true, fail instead."""
    missing = _missing()
    if missing:
        reason = "browser tests need " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: refusing to skip)", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


# -- the site ------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


class Site:
    """The running server and the ids the tests need."""

    def __init__(self, base_url: str, ids: dict[str, int] | None = None):
        self.base_url = base_url
        self.ids = ids if ids is not None else {}

    def url(self, path: str) -> str:
        return self.base_url + path


def make_app(directory: Path, **config: Any) -> Flask:
    """The app on a fresh SQLite database in directory, its tables created.

    CSRF stays on; rate limits are off; password hashing is cheap (these tests
    are about pages, not Argon2's cost).  config adds to (or overrides) that.
    """
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'forum.sqlite'}",
            "SECRET_KEY": "x",
            "FORUM_RATELIMIT": "off",
            "FORUM_ARGON2_TIME_COST": 1,
            "FORUM_ARGON2_MEMORY_KIB": 1024,
            "TESTING": True,
            **config,
        }
    )
    with app.app_context():
        db.create_all()
    return app


@contextmanager
def serving(wsgi, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve any WSGI callable on host in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, wsgi, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve app on 127.0.0.1 in a thread; yields its base URL.

    On the way out the server stops and the app's database connections close.
    """
    try:
        with serving(app) as base_url:
            yield base_url
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# -- signing in ------------------------------------------------------------------------


def submit_login(
    page: Page, site: Site, username: str, password: str, next_path: str | None = None
) -> None:
    """Fill in and submit the real login form."""
    page.goto(site.url("/auth/login" + (f"?next={next_path}" if next_path else "")))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_in(page: Page, site: Site, username: str, next_path: str | None = None) -> None:
    """Sign in through the real form (with PASSWORD)."""
    from playwright.sync_api import expect

    submit_login(page, site, username, PASSWORD, next_path)
    expect(page.locator(".whoami")).to_be_visible()


class Watched:
    """A page and every script error or console error it reports."""

    def __init__(self, page: Page):
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console.error: {message.text} ({message.location['url']})")

    def assert_clean(self, expected: str | None = None) -> None:
        """No errors, apart from those matching the regular expression expected."""
        errors = [e for e in self.errors if not (expected and re.search(expected, e))]
        assert not errors, "the page reported errors:\n" + "\n".join(errors)


# -- accessibility -------------------------------------------------------------------------

SERIOUS = ("serious", "critical")

AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ") + " -- " +
                              (n.failureSummary || "").replace(/\\s+/g, " ")),
  }));
}"""


def inject_axe(page: Page) -> None:
    """Add axe-core to the page (its context needs bypass_csp=True: axe goes inline)."""
    page.add_script_tag(path=str(AXE))


def axe_violations(page: Page) -> list[dict]:
    """axe's violations on the page as it is now (inject_axe first)."""
    return page.evaluate(AXE_RUN)


def serious_violations(page: Page, label: str) -> list[dict]:
    """axe's serious and critical violations now; the others are printed (shown
    with -rP; worth a look, not a failure)."""
    serious = []
    for v in axe_violations(page):
        if v["impact"] in SERIOUS:
            serious.append(v)
        else:
            print(f"axe [{v['impact']}] {v['id']} on {label}: {v['targets']}")
    return serious


def axe_in_both_schemes(page: Page, name: str) -> tuple[list[tuple[str, dict]], set[str]]:
    """Run axe in the light and then the dark colour scheme.

    Returns the serious violations as (scheme, violation) and the body's
    background colour in each scheme; the others are printed (shown with -rP;
    worth a look, not a failure).
    """
    failures, backgrounds = [], set()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        backgrounds.add(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        failures += [(scheme, v) for v in serious_violations(page, f"{name} ({scheme})")]
    return failures, backgrounds


def axe_report(failures: list[tuple[str, dict]]) -> str:
    """axe_in_both_schemes()'s failures, for an assertion message."""
    return "\n".join(
        f"  {scheme}: [{v['impact']}] {v['id']}: {v['help']}\n"
        + "\n".join(f"      {t}" for t in v["targets"])
        for scheme, v in failures
    )
