"""The browser tests' fixtures: one Chromium per worker, contexts per test.

Every module here drives Debian's /usr/bin/chromium through Playwright against
its own live server (tests/browser/browser_support.py).  Without Chromium,
axe-core (`npm ci`) or the playwright package this directory is skipped, before
any module imports Playwright; under CI=true that is an error instead.

Playwright's expect() waits 5 s, or EXPECT_TIMEOUT_MS where a module sets it.
Every test in this directory carries the browser mark, so `-m "not browser"`
leaves them all out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import CHROMIUM, LAUNCH_ARGS, Watched, log_in, require_browser_tools

require_browser_tools()

from playwright.sync_api import expect, sync_playwright  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPECT_TIMEOUT_MS = 5_000
CONTEXT_TIMEOUT_MS = 5_000  # each context's default for clicks, fills and waits
# Loading a page is a ceiling, not an assertion: with two workers each driving
# Chromium against its own server on a busy 2-core machine, a page of the
# reply-collapse module once took over 5 s to load.
NAVIGATION_TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module", autouse=True)
def expect_timeout(request):
    """expect()'s timeout for the module: EXPECT_TIMEOUT_MS, its own or ours."""
    expect.set_options(timeout=getattr(request.module, "EXPECT_TIMEOUT_MS", EXPECT_TIMEOUT_MS))
    yield
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def browser():
    """Chromium, started once per worker: every test opens contexts of its own,
    which share nothing (cookies, storage, cache)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def open_context(browser):
    """new_context() whose contexts are closed after the test."""
    contexts = []

    def opener(**kwargs):
        context = browser.new_context(**kwargs)
        context.set_default_timeout(CONTEXT_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield opener
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def state_of(browser, site):
    """username -> cookies of that account, signed in once through the login form
    of the module's site."""
    states: dict[str, dict] = {}

    def state(username: str) -> dict:
        if username not in states:
            context = browser.new_context()
            log_in(context.new_page(), site, username)
            states[username] = context.storage_state()
            context.close()
        return states[username]

    return state


@pytest.fixture
def as_user(open_context, state_of):
    """A watched page signed in as username (None: an anonymous visitor)."""

    def opener(username: str | None, **kwargs) -> Watched:
        if username:
            kwargs["storage_state"] = state_of(username)
        return Watched(open_context(**kwargs).new_page())

    return opener
