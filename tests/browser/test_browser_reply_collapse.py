"""A long conversation collapsed behind "N more replies", as a reader meets it:
real Chromium, real server (tests/browser/browser_support.py).

The replies load in place with a click or from the keyboard, focus moves to the
first new reply and the live region says what came; without JavaScript the same
link opens the replies page.  axe finds nothing serious in either colour
scheme; screenshots of the collapsed conversation land in test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    Site,
    Watched,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    make_app,
    serve,
)
from playwright.sync_api import expect

from forum.extensions import db
from forum.models import CommentStatus, utcnow
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

SLUG = "a-long-conversation"
REPLIES = 70  # one deleted: 69 shown, 10 on the page, then 50 and 9
DELETED = 30  # beyond the first ten, with replies: it arrives as a tombstone


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser-reply-collapse"),
    )
    with app.app_context():
        ids = _seed()
    with serve(app) as base_url:
        yield Site(base_url, ids)


def _seed() -> dict[str, int]:
    people = [accounts.register(name, f"{name}@example.org", PASSWORD) for name in ("lena", "omar")]
    threads.save_article(SLUG, "A long conversation", "Everyone had something to say.")
    db.session.flush()
    thread = threads.thread_by_key(SLUG)
    start = utcnow() - timedelta(days=1)
    root = comments.add_comment(
        thread, people[0], None, "Who lit the lantern?", CommentStatus.APPROVED, created_at=start
    )
    made = [root]
    for i in range(REPLIES):
        # Even replies answer the root, odd ones an earlier reply: a tree with depth.
        parent = made[(i + 1) // 2] if i % 2 else root
        status = CommentStatus.DELETED if i == DELETED else CommentStatus.APPROVED
        made.append(
            comments.add_comment(
                thread,
                people[i % 2],
                parent,
                f"Reply {i:02}: the keeper, surely.",
                status,
                created_at=start + timedelta(minutes=i + 1),
            )
        )
    db.session.commit()
    return {"root": root.id, **{f"r{i}": c.id for i, c in enumerate(made[1:])}}


def open_article(context, site: Site) -> Watched:
    w = Watched(context.new_page())
    w.page.goto(site.url(f"/articles/{SLUG}"))
    w.page.evaluate("window.__marker = 'same page'")
    return w


def more_link(page):
    return page.locator("a[data-replies]")


@pytest.mark.browser
def test_more_replies_load_in_place(site, open_context):
    context = open_context(bypass_csp=True)  # axe is injected inline
    w = open_article(context, site)
    page, ids = w.page, site.ids
    articles = page.locator("article.comment")
    expect(articles).to_have_count(11)
    link = page.get_by_role("link", name="59 more replies to lena")
    expect(link).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    conversation = page.locator(f"li:has(> #c{ids['root']})")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        path = ARTIFACTS / f"reply-collapse-{scheme}.png"
        conversation.screenshot(path=str(path))
        assert path.stat().st_size > 10_000

    link.click()
    first = page.locator(f"#c{ids['r10']}")
    expect(first).to_be_focused()
    # In place: reply 10 answers the root, reply 11 answers reply 5.
    expect(
        page.locator(f"li:has(> #c{ids['root']}) > ol.replies > li > #c{ids['r10']}")
    ).to_be_visible()
    expect(
        page.locator(f"li:has(> #c{ids['r5']}) > ol.replies > li > #c{ids['r11']}")
    ).to_be_visible()
    expect(page.locator("#thread-live")).to_have_text(
        "50 more replies loaded; 9 more replies to come."
    )
    expect(more_link(page)).to_have_text(re.compile(r"^9 more replies"))

    inject_axe(page)
    failures, backgrounds = axe_in_both_schemes(page, "collapsed conversation")
    assert not failures, axe_report(failures)
    assert len(backgrounds) == 2

    more_link(page).click()
    expect(more_link(page)).to_have_count(0)
    expect(articles).to_have_count(1 + REPLIES)
    expect(page.locator("#thread-live")).to_have_text("9 more replies loaded.")
    # The deleted reply came as a tombstone, and its reply (61) under it.
    deleted = ids[f"r{DELETED}"]
    expect(page.locator(f"#c{deleted}")).to_have_class(re.compile(r"\btombstone\b"))
    expect(
        page.locator(f"li:has(> #c{deleted}) > ol.replies > li > #c{ids['r61']}")
    ).to_be_visible()
    assert page.evaluate("window.__marker") == "same page"
    w.assert_clean()


@pytest.mark.browser
def test_keyboard_only(site, open_context):
    w = open_article(open_context(), site)
    page, ids = w.page, site.ids

    def tab_to_more_replies():
        for _ in range(300):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.matches('a[data-replies]')"):
                return
        raise AssertionError("Tab never reached the more replies link")

    tab_to_more_replies()
    page.keyboard.press("Enter")
    expect(page.locator(f"#c{ids['r10']}")).to_be_focused()
    page.keyboard.press("Tab")  # on into the reply just loaded
    assert page.evaluate(
        f"document.getElementById('c{ids['r10']}').contains(document.activeElement)"
    )
    tab_to_more_replies()
    page.keyboard.press("Enter")
    expect(more_link(page)).to_have_count(0)
    expect(page.locator(f"#c{ids['r61']}")).to_be_focused()  # the first of the last nine
    assert page.evaluate("window.__marker") == "same page"
    w.assert_clean()


@pytest.mark.browser
def test_without_javascript_the_link_opens_the_replies(site, open_context):
    page = open_context(java_script_enabled=False).new_page()
    page.goto(site.url(f"/articles/{SLUG}"))
    page.get_by_role("link", name="59 more replies to lena").click()
    expect(page).to_have_url(re.compile(rf"/articles/{SLUG}/comments/\d+/replies\?after="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Replies to lena")
    replies = page.locator("#reply-list > li > article")
    expect(replies).to_have_count(50)
    expect(replies.first).to_contain_text("replying to @lena")
    page.get_by_role("link", name="Next replies (9 more)").click()
    expect(replies).to_have_count(9)
    expect(replies.last).to_contain_text("Reply 69")
    page.get_by_role("link", name="← Back to the discussion").click()
    expect(page).to_have_url(site.url(f"/articles/{SLUG}#discussion"))
