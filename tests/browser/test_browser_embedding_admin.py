"""The admins' embedding pages in Chromium: allow a site, set up its single sign-on
(the secret shown once), rename and merge embedded threads, by keyboard-free
plain forms; axe on every state of the pages, light and dark.

Set-up from tests/browser/browser_support.py (werkzeug's server, CSRF on, Debian's
Chromium through Playwright, axe-core from npm; skipped without them, except
under CI=true).
"""

from __future__ import annotations

import pytest
from browser_support import (
    PASSWORD,
    PHONE,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    make_app,
    serve,
)
from playwright.sync_api import Page, expect

from forum.extensions import db
from forum.models import Role, Thread
from forum.services.accounts import accounts
from forum.services.discussion import comments

NEWS = "https://news.example"
ADMIN = "ada"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser-embedding-admin"),
        FORUM_EMBED_ORIGINS=NEWS,
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
    )
    with app.app_context():
        accounts.register(ADMIN, "ada@example.org", PASSWORD, Role.ADMIN)
        reader = accounts.register("lena", "lena@example.org", PASSWORD)
        for key, title in [
            ("s1e1", "Season one, episode one"),
            ("s1e1-copy", "Season 1 Episode 1"),
            ("s1e2", "Season one, episode two"),
            ("keep-me", "A thread to keep"),
            ("merge-me", "A thread to merge"),
        ]:
            db.session.add(Thread(key=key, title=title, url=f"{NEWS}/{key}", origin=NEWS))
        db.session.flush()
        for key in ("s1e1", "s1e1-copy", "merge-me"):
            thread = db.session.scalar(db.select(Thread).where(Thread.key == key))
            comments.post_comment(reader, thread, f"A comment on {key}.")
        db.session.commit()
    with serve(app) as base_url:
        yield Site(base_url)


def admin_page(open_context, state_of, **options) -> Page:
    options = {"storage_state": state_of(ADMIN), **options}
    return open_context(**options).new_page()


# -- what admins do --------------------------------------------------------------------------


@pytest.mark.browser
def test_admin_allows_a_site_and_sets_up_single_sign_on(site, open_context, state_of):
    page = admin_page(open_context, state_of)
    page.goto(site.url("/moderation/queue/pending"))
    page.get_by_role("navigation", name="Moderation").get_by_role("link", name="Embedding").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Embedding")
    expect(page.get_by_role("listitem", name=NEWS)).to_contain_text("from FORUM_EMBED_ORIGINS")

    page.get_by_label("Origin", exact=True).fill("news.example/path")
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("That origin needs another look.")
    expect(page.get_by_label("Origin", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Origin", exact=True).fill("https://blog.example")
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.locator(".flash")).to_have_text("https://blog.example may embed discussions.")

    page.get_by_role("button", name=f"Set up single sign-on for {NEWS}").click()
    secret_box = page.get_by_role("textbox", name=f"Secret for {NEWS}")
    expect(secret_box).to_be_focused()
    secret = secret_box.input_value()
    assert len(secret) >= 40
    expect(page.get_by_text("shown only this once")).to_be_visible()

    page.goto(site.url("/moderation/embedding/"))  # the secret is gone for good
    expect(page.get_by_role("textbox", name=f"Secret for {NEWS}")).to_have_count(0)
    assert secret not in page.content()
    expect(page.get_by_role("button", name=f"Replace sign-on secret for {NEWS}")).to_be_visible()

    page.get_by_role("button", name="Refuse https://blog.example").click()
    expect(page.locator(".flash")).to_have_text(
        "https://blog.example may no longer embed discussions."
    )


@pytest.mark.browser
def test_admin_renames_and_merges_threads(site, open_context, state_of):
    page = admin_page(open_context, state_of)
    page.goto(site.url("/moderation/embedding/threads"))
    page.get_by_role("link", name="Season 1 Episode 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Season 1 Episode 1")

    page.get_by_label("Title", exact=True).fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#t-title-error")).to_contain_text("Give the thread a title")

    page.get_by_label("Title", exact=True).fill("Season one, episode one (copy)")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Saved the thread's title and address.")

    page.get_by_label("Key of the thread to keep").fill("s1e1-copy")
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be merged into itself")

    page.get_by_label("Key of the thread to keep").fill("s1e1")
    page.get_by_role("button", name="Merge").click()
    expect(page.locator(".flash")).to_have_text("Merged s1e1-copy into s1e1: 1 comment(s) moved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Season one, episode one")
    expect(page.locator(".meta").first).to_be_visible()

    page.goto(site.url("/moderation/embedding/threads"))
    copy = page.get_by_role("listitem", name="Season one, episode one (copy)")
    expect(copy).to_contain_text("merged into s1e1")


# -- accessibility ---------------------------------------------------------------------------


def _goto(path):
    return lambda page, site: page.goto(site.url(path))


def _origin_error(page: Page, site: Site) -> None:
    page.goto(site.url("/moderation/embedding/"))
    page.get_by_label("Origin", exact=True).fill("not an origin")
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()


def _secret_shown(page: Page, site: Site) -> None:
    page.goto(site.url("/moderation/embedding/"))
    page.locator("form[action$='/origins/secret'] button").first.click()
    expect(page.locator("#sso-secret")).to_be_visible()


def _thread_errors(page: Page, site: Site) -> None:
    page.goto(site.url("/moderation/embedding/threads/s1e2"))
    page.get_by_label("Address of its page").fill("javascript:alert(1)")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.has-error")).to_have_count(1)


def _merge_error(page: Page, site: Site) -> None:
    page.goto(site.url("/moderation/embedding/threads/s1e2"))
    page.get_by_label("Key of the thread to keep").fill("no-such-thread")
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("alert")).to_be_visible()


AXE_PAGES = {
    "sites": _goto("/moderation/embedding/"),
    "sites-origin-error": _origin_error,
    "sites-secret-shown": _secret_shown,
    "threads": _goto("/moderation/embedding/threads"),
    "threads-filter-error": _goto("/moderation/embedding/threads?origin=nope"),
    "thread": _goto("/moderation/embedding/threads/merge-me"),
    "thread-errors": _thread_errors,
    "thread-merge-error": _merge_error,
}
AXE_CASES = [pytest.param(name, None, id=name) for name in AXE_PAGES] + [
    pytest.param("sites", PHONE, id="sites-phone"),
    pytest.param("threads", PHONE, id="threads-phone"),
]


@pytest.mark.browser
@pytest.mark.parametrize(("name", "viewport"), AXE_CASES)
def test_axe_finds_no_serious_violations(site, open_context, state_of, name, viewport):
    options = {"bypass_csp": True}  # axe is injected inline
    if viewport:
        options.update(viewport=viewport, is_mobile=True, has_touch=True)
    page = admin_page(open_context, state_of, **options)
    page.emulate_media(color_scheme="light")
    AXE_PAGES[name](page, site)
    inject_axe(page)
    failures, backgrounds = axe_in_both_schemes(page, name)
    assert len(backgrounds) == 2, f"the dark scheme did not apply: {backgrounds}"
    assert not failures, f"axe on {name} ({viewport or 'desktop'}):\n{axe_report(failures)}"


@pytest.mark.browser
def test_the_pages_fit_a_phone(site, open_context, state_of):
    """No sideways scrolling of the whole page on a phone."""
    page = admin_page(open_context, state_of, viewport=PHONE, is_mobile=True, has_touch=True)
    for path in ("/moderation/embedding/", "/moderation/embedding/threads"):
        page.goto(site.url(path))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a phone"
