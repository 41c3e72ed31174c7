"""The discussion as a person uses it: real Chromium, real server, real forms.

Runs the app under werkzeug's threaded WSGI server on 127.0.0.1 (CSRF on, as in
production) and drives Debian's /usr/bin/chromium through Playwright.  axe-core
comes from npm (`npm ci` at the repository root).  Without Chromium or axe-core
the module is skipped, except under CI=true, where that is an error.  The
scaffolding for all of that lives in tests/browser/browser_support.py.

Screenshots of the article page land in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import itertools
import re

import pytest
from browser_support import (
    ARTIFACTS,
    PHONE,
    Site,
    Watched,
    axe_report,
    inject_axe,
    make_app,
    serious_violations,
    serve,
    submit_login,
)
from playwright.sync_api import Page, expect

from forum.extensions import db
from forum.models import Comment
from forum.ops import demo
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

LANTERN = "the-lantern-coast-season-two-first-look"
LONG = "a-long-discussion"
BUSY = "a-busy-discussion"  # for posting while later pages are unloaded
PAGE_SIZE = 5
LONG_COMMENTS = 12
READER = ("lena", "lena@example.org", "correct horse battery")
_serial = itertools.count(1)


# -- the site ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser"),
        FORUM_PAGE_SIZE=PAGE_SIZE,
        # The seed posts many comments from young accounts; the new-account
        # hold has its own tests.
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10**4},
    )
    with app.app_context():
        ids = _seed()
    with serve(app) as base_url:
        yield Site(base_url, ids)


def _seed() -> dict[str, int]:
    demo.load()
    db.session.commit()
    reader = accounts.register(*READER)
    db.session.commit()

    def demo_comment(start: str) -> int:
        return db.session.scalar(db.select(Comment.id).where(Comment.body.startswith(start)))

    lantern = threads.thread_by_key(LANTERN)
    own = comments.post_comment(reader, lantern, "My own comment, still editable.")
    threads.save_article(LONG, "A long discussion", "Many readers had something to say.")
    db.session.flush()
    long_thread = threads.thread_by_key(LONG)
    poster = accounts.find_user("quillfeather")
    long_ids = [
        comments.post_comment(poster, long_thread, f"Long thread comment {n:02}").id
        for n in range(1, LONG_COMMENTS + 1)
    ]
    threads.save_article(BUSY, "A busy discussion", "Readers keep arriving.")
    db.session.flush()
    busy_thread = threads.thread_by_key(BUSY)
    for n in range(1, PAGE_SIZE + 3):
        comments.post_comment(poster, busy_thread, f"Busy thread comment {n:02}")
    db.session.commit()
    return {
        "own": own.id,
        "too_obvious": demo_comment("Too obvious"),
        "marguerite": demo_comment("Marguerite lit it herself"),
        "long_late": long_ids[PAGE_SIZE + 3],  # on the second page
    }


# -- the browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_in_state(browser, site):
    """Cookies of READER, signed in once through the real login form."""
    context = browser.new_context()
    page = context.new_page()
    submit_login(page, site, READER[0], READER[2])
    expect(page.locator(".whoami")).to_contain_text(READER[0])
    state = context.storage_state()
    context.close()
    return state


def watched(context) -> Watched:
    return Watched(context.new_page())


def register(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()


def comment_article(page: Page, text: str):
    return page.locator("article.comment", has_text=text)


# -- reading -----------------------------------------------------------------------------


@pytest.mark.browser
def test_anonymous_visitor_reads_the_nested_discussion(site, open_context):
    w = watched(open_context())
    page = w.page
    page.goto(site.url(f"/articles/{LANTERN}"))

    expect(page.get_by_role("heading", level=1)).to_contain_text("The Lantern Coast returns")
    top = page.locator("#comment-list > li > article.comment")
    expect(top).to_have_count(5)  # four from the demo, one from READER
    # Each reply sits inside the list of replies of the comment it answers.
    marguerite = page.locator(f"#comment-list > li:has(> #c{site.ids['marguerite']})")
    reply = marguerite.locator(":scope > ol.replies > li > article.comment")
    expect(reply).to_contain_text("Too obvious")
    expect(
        marguerite.locator(":scope > ol.replies > li > ol.replies article.comment")
    ).to_contain_text("I am staying with it")
    # Three replies from the demo's first readers, and one hiding a spoiler.
    expect(page.locator("ol.replies article.comment")).to_have_count(4)
    # A visitor is invited to join rather than shown a form they cannot use.
    expect(page.locator("#new-comment")).to_have_count(0)
    expect(page.locator(".reply-link")).to_have_count(0)
    expect(page.get_by_role("link", name="register", exact=True)).to_be_visible()
    w.assert_clean()


# -- posting with JavaScript ---------------------------------------------------------------


@pytest.mark.browser
def test_register_then_post_and_reply_without_reload(site, open_context):
    w = watched(open_context())
    page = w.page
    page.goto(site.url(f"/articles/{LANTERN}"))
    page.get_by_role("link", name="register", exact=True).click()
    expect(page).to_have_url(re.compile(r"/auth/register\?next="))
    username = f"newcomer{next(_serial)}"
    register(page, username)

    expect(page).to_have_url(re.compile(rf"/articles/{LANTERN}"))
    expect(page.locator(".flash")).to_contain_text("Welcome")
    expect(page.locator(".whoami")).to_contain_text(username)

    page.evaluate("window.__marker = 'same page'")
    counter = page.locator("#discussion-heading .count")
    before = int(re.search(r"\d+", counter.inner_text()).group())
    page.get_by_label("Your comment").fill("Posted *without* a reload.")
    page.get_by_role("button", name="Post comment").click()
    posted = comment_article(page, "Posted without a reload.")
    expect(posted).to_be_visible()
    expect(posted.locator("em")).to_have_text("without")
    expect(posted).to_be_focused()
    expect(page.get_by_label("Your comment")).to_have_value("")
    expect(page.locator("#thread-live")).to_have_text("Your comment was posted.")
    expect(counter).to_have_text(f"({before + 1} comments)")
    assert page.evaluate("window.__marker") == "same page"

    parent_id = site.ids["too_obvious"]
    parent = page.locator(f"#c{parent_id}")
    parent.locator("a.reply-link").click()
    form = page.locator(f"#c{parent_id} + form.reply-form")
    expect(form).to_be_visible()
    textarea = form.get_by_label("Your reply to Tom Okafor")
    expect(textarea).to_be_focused()
    textarea.fill("An inline reply.")
    form.get_by_role("button", name="Post reply").click()

    nested = page.locator(f"li:has(> #c{parent_id}) > ol.replies > li > article.comment")
    expect(nested.filter(has_text="An inline reply.")).to_be_visible()
    expect(form).to_have_count(0)
    assert page.evaluate("window.__marker") == "same page"
    reply = comment_article(page, "An inline reply.")
    expect(reply).to_be_focused()
    # Both survive a reload: they were stored, not just drawn (newest first, so the
    # new top-level comment is on the first page).
    page.goto(site.url(f"/articles/{LANTERN}?sort=newest"))
    expect(comment_article(page, "Posted without a reload.")).to_be_visible()
    page.goto(site.url(f"/articles/{LANTERN}"))
    expect(nested.filter(has_text="An inline reply.")).to_be_visible()
    w.assert_clean()


@pytest.mark.browser
def test_errors_from_the_server_show_beside_the_form(site, open_context, signed_in_state):
    w = watched(open_context(storage_state=signed_in_state))
    page = w.page
    page.goto(site.url(f"/articles/{LANTERN}"))
    page.evaluate("window.__marker = 'same page'")
    textarea = page.get_by_label("Your comment")
    # Whitespace passes the browser's `required` check but not the server's.
    textarea.fill("   ")
    page.get_by_role("button", name="Post comment").click()
    status = page.locator("#new-comment .form-status")
    expect(status).to_have_text("Write something first.")
    expect(page.get_by_role("button", name="Post comment")).to_be_enabled()
    assert page.evaluate("window.__marker") == "same page"
    # Chromium logs every 4xx response; this one was the point of the test.
    w.assert_clean(expected=r"status of 422 .*/comments\)")


# -- posting without JavaScript ------------------------------------------------------------


@pytest.mark.browser
def test_posting_and_replying_work_without_javascript(site, open_context):
    page = open_context(java_script_enabled=False).new_page()
    page.goto(site.url(f"/articles/{LANTERN}"))
    page.get_by_role("link", name="register", exact=True).click()
    register(page, f"plainreader{next(_serial)}")
    expect(page).to_have_url(re.compile(rf"/articles/{LANTERN}"))

    page.get_by_label("Your comment").fill("A comment from a browser without scripts.")
    page.get_by_role("button", name="Post comment").click()
    expect(page).to_have_url(re.compile(rf"/articles/{LANTERN}\?comment=(\d+)#c\1$"))
    expect(page.locator(".flash")).to_have_text("Your comment is up.")
    target = page.locator("article.comment:target")
    expect(target).to_contain_text("A comment from a browser without scripts.")

    parent_id = site.ids["too_obvious"]
    page.goto(site.url(f"/articles/{LANTERN}"))
    page.locator(f"#c{parent_id} a.reply-link").click()
    expect(page).to_have_url(site.url(f"/comments/{parent_id}/reply"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reply to Tom Okafor")
    page.get_by_label("Your comment").fill("A reply sent the old-fashioned way.")
    page.get_by_role("button", name="Post reply").click()

    expect(page).to_have_url(re.compile(rf"/articles/{LANTERN}\?comment=(\d+)#c\1$"))
    new_id = int(page.url.rsplit("#c", 1)[1])
    reply = page.locator(f"#c{new_id}")
    expect(reply).to_be_visible()
    expect(reply).to_contain_text("A reply sent the old-fashioned way.")
    expect(page.locator("article.comment:target")).to_have_attribute("id", f"c{new_id}")
    # Nested under the comment it answers, and highlighted as the link's target.
    expect(page.locator(f"li:has(> #c{parent_id}) > ol.replies > li > #c{new_id}")).to_have_count(1)
    highlight = reply.evaluate("el => getComputedStyle(el).backgroundColor")
    assert highlight == "rgb(255, 244, 194)", highlight


# -- permalinks and paging -----------------------------------------------------------------


@pytest.mark.browser
def test_permalink_to_a_later_page_opens_its_conversation(site, open_context):
    w = watched(open_context())
    page = w.page
    late = site.ids["long_late"]
    page.goto(site.url(f"/articles/{LONG}#c{late}"))
    expect(page).to_have_url(site.url(f"/articles/{LONG}?comment={late}#c{late}"))
    target = page.locator(f"#c{late}")
    expect(target).to_be_visible()
    expect(target).to_be_in_viewport()
    expect(page.locator("article.comment:target")).to_have_attribute("id", f"c{late}")
    expect(page.get_by_role("link", name="Show all comments")).to_be_visible()

    # A link to a comment that is gone settles on the whole discussion (no reload loop).
    loads = []
    page.on("load", lambda _: loads.append(page.url))
    page.goto(site.url(f"/articles/{LONG}#c999999"))
    expect(page).to_have_url(site.url(f"/articles/{LONG}?comment=999999#c999999"))
    expect(page.locator("#comment-list > li")).to_have_count(PAGE_SIZE)
    page.wait_for_timeout(300)
    assert len(loads) <= 2, loads
    w.assert_clean()


@pytest.mark.browser
def test_load_more_appends_the_next_page(site, open_context):
    w = watched(open_context())
    page = w.page
    page.goto(site.url(f"/articles/{LONG}"))
    page.evaluate("window.__marker = 'same page'")
    top = page.locator("#comment-list > li > article.comment")
    expect(top).to_have_count(PAGE_SIZE)

    more = page.get_by_role("link", name="Load more comments")
    more.click()
    expect(top).to_have_count(2 * PAGE_SIZE)
    expect(top.nth(PAGE_SIZE)).to_contain_text(f"Long thread comment {PAGE_SIZE + 1:02}")
    expect(top.nth(PAGE_SIZE)).to_be_focused()
    more.click()
    expect(top).to_have_count(LONG_COMMENTS)
    expect(more).to_have_count(0)
    texts = top.locator(".comment-body").all_inner_texts()
    assert texts == [f"Long thread comment {n:02}" for n in range(1, LONG_COMMENTS + 1)]
    assert page.evaluate("window.__marker") == "same page"
    w.assert_clean()


@pytest.mark.browser
def test_load_more_after_posting_shows_the_new_comment_once(site, open_context, signed_in_state):
    w = watched(open_context(storage_state=signed_in_state))
    page = w.page
    page.goto(site.url(f"/articles/{BUSY}"))
    page.get_by_label("Your comment").fill("Posted before the later pages were loaded.")
    page.get_by_role("button", name="Post comment").click()
    mine = comment_article(page, "Posted before the later pages were loaded.")
    expect(mine).to_be_focused()
    # The new comment belongs on the last page, which "Load more" brings in later.
    top = page.locator("#comment-list > li > article.comment")
    expect(top).to_have_count(PAGE_SIZE + 1)
    more = page.get_by_role("link", name="Load more comments")
    more.click()
    expect(more).to_have_count(0)
    expect(top).to_have_count(PAGE_SIZE + 3)
    expect(mine).to_have_count(1)
    expect(top.last).to_contain_text("Posted before the later pages were loaded.")
    w.assert_clean()


# -- keyboard ------------------------------------------------------------------------------


@pytest.mark.browser
def test_keyboard_skip_link_and_inline_reply(site, open_context, signed_in_state):
    w = watched(open_context(storage_state=signed_in_state))
    page = w.page
    page.goto(site.url(f"/articles/{LANTERN}"))

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    parent_id = site.ids["marguerite"]
    link = page.locator(f"#c{parent_id} a.reply-link")
    link.focus()
    page.keyboard.press("Enter")
    form = page.locator(f"#c{parent_id} + form.reply-form")
    expect(form).to_be_visible()
    expect(form.locator("textarea")).to_be_focused()
    assert page.url.startswith(site.url(f"/articles/{LANTERN}")), page.url  # no navigation

    # Cancel by keyboard returns focus to the link that opened the form.
    page.keyboard.press("Tab")  # Post reply
    page.keyboard.press("Tab")  # Cancel
    expect(form.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(form).to_have_count(0)
    expect(link).to_be_focused()
    w.assert_clean()


# -- accessibility -------------------------------------------------------------------------


def _goto(page: Page, site: Site, path: str) -> None:
    page.goto(site.url(path))


def _register_with_errors(page: Page, site: Site) -> None:
    page.goto(site.url("/auth/register"))
    page.get_by_label("Username").fill("x")
    page.get_by_label("Email").fill("not an address")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".field.has-error")).to_have_count(3)


def _reply_form_open(page: Page, site: Site) -> None:
    page.goto(site.url(f"/articles/{LANTERN}"))
    page.locator(f"#c{site.ids['too_obvious']} a.reply-link").click()
    expect(page.locator("form.reply-form textarea")).to_be_focused()


def _permalink(page: Page, site: Site) -> None:
    target = site.ids["too_obvious"]
    page.goto(site.url(f"/articles/{LANTERN}?comment={target}#c{target}"))
    expect(page.locator("article.comment:target")).to_have_count(1)


# name -> (signed in?, how to get there)
AXE_PAGES = {
    "index": (False, lambda p, s: _goto(p, s, "/")),
    "article": (False, lambda p, s: _goto(p, s, f"/articles/{LANTERN}")),
    "article-signed-in": (True, lambda p, s: _goto(p, s, f"/articles/{LANTERN}")),
    "article-reply-form": (True, _reply_form_open),
    "article-permalink": (False, _permalink),
    "login": (False, lambda p, s: _goto(p, s, "/auth/login")),
    "register": (False, lambda p, s: _goto(p, s, "/auth/register")),
    "register-errors": (False, _register_with_errors),
    "reply": (True, lambda p, s: _goto(p, s, f"/comments/{s.ids['too_obvious']}/reply")),
    "edit": (True, lambda p, s: _goto(p, s, f"/comments/{s.ids['own']}/edit")),
    "delete": (True, lambda p, s: _goto(p, s, f"/comments/{s.ids['own']}/delete")),
    "not-found": (False, lambda p, s: _goto(p, s, "/articles/no-such-article")),
}
AXE_CASES = [
    pytest.param(name, scheme, None, id=f"{name}-{scheme}")
    for name in AXE_PAGES
    for scheme in ("light", "dark")
] + [
    pytest.param(name, scheme, PHONE, id=f"{name}-{scheme}-phone")
    for name in ("article", "article-signed-in", "article-reply-form")
    for scheme in ("light", "dark")
]


@pytest.mark.browser
@pytest.mark.parametrize(("name", "scheme", "viewport"), AXE_CASES)
def test_axe_finds_no_serious_violations(
    site, open_context, signed_in_state, name, scheme, viewport
):
    signed_in, arrive = AXE_PAGES[name]
    options = {"color_scheme": scheme, "bypass_csp": True}  # axe is injected inline
    if signed_in:
        options["storage_state"] = signed_in_state
    if viewport:
        options.update(viewport=viewport, is_mobile=True, has_touch=True)
    page = open_context(**options).new_page()
    arrive(page, site)
    inject_axe(page)
    serious = serious_violations(page, f"{name} ({scheme})")
    report = axe_report([(scheme, v) for v in serious])
    assert not serious, f"axe on {name} ({scheme}, {viewport or 'desktop'}):\n{report}"


# -- screenshots ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize(
    ("label", "options"),
    [
        ("light", {"color_scheme": "light"}),
        ("dark", {"color_scheme": "dark"}),
        ("phone", {"color_scheme": "light", "viewport": PHONE, "is_mobile": True}),
        ("phone-dark", {"color_scheme": "dark", "viewport": PHONE, "is_mobile": True}),
    ],
)
def test_article_screenshots(site, open_context, signed_in_state, label, options):
    page = open_context(storage_state=signed_in_state, **options).new_page()
    target = site.ids["too_obvious"]
    page.goto(site.url(f"/articles/{LANTERN}#c{target}"))
    expect(page.locator("article.comment:target")).to_have_count(1)
    page.locator(f"#c{site.ids['marguerite']} a.reply-link").click()
    expect(page.locator("form.reply-form textarea")).to_be_focused()
    # Nothing wider than the screen: no sideways scrolling on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px ({label})"
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"article-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
