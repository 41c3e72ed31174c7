"""Text direction in real Chromium: each reader's words keep their own direction
(dir="auto" on what readers write), and the thread's layout is written in
logical properties, so a right-to-left page mirrors it. Screenshots land in
test-artifacts/."""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, PASSWORD, make_app, serve
from playwright.sync_api import expect

from forum.extensions import db
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

SLUG = "two-scripts"
ARABIC = "أظن أن حارس المنارة كتب السجل بنفسه."
ENGLISH = "I think the keeper wrote the logbook himself."


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("browser-direction"))
    with app.app_context():
        layla = accounts.register("layla", "layla@example.org", PASSWORD)
        layla.display_name = "ليلى"
        ben = accounts.register("ben", "ben@example.org", PASSWORD)
        threads.save_article(SLUG, "The lighthouse, in two scripts", "Who wrote the logbook?")
        thread = threads.thread_by_key(SLUG)
        top = comments.post_comment(layla, thread, ARABIC)
        comments.post_comment(ben, thread, ENGLISH, parent=top)
        db.session.commit()
    with serve(app) as base_url:
        yield base_url


def direction(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).direction")


def test_each_readers_words_keep_their_direction_and_a_rtl_page_mirrors(site, open_context):
    page = open_context().new_page()
    page.goto(f"{site}/articles/{SLUG}")
    arabic = page.locator(".comment-body", has_text=ARABIC)
    english = page.locator(".comment-body", has_text=ENGLISH)
    expect(arabic).to_be_visible()
    assert direction(arabic) == "rtl" and direction(english) == "ltr"
    assert direction(page.locator(".author", has_text="ليلى")) == "rtl"
    replies = page.locator(".comments.replies").first
    left_to_right = replies.evaluate(
        "el => [getComputedStyle(el).borderLeftWidth, getComputedStyle(el).borderRightWidth]"
    )
    assert left_to_right == ["2px", "0px"]
    page.screenshot(path=str(ARTIFACTS / "direction-ltr-page.png"), full_page=True)

    # The same page laid out right to left (as an Arabic or Hebrew page will be):
    # the replies' rule and indentation move to the right; the words stay as written.
    page.evaluate("document.documentElement.dir = 'rtl'")
    right_to_left = replies.evaluate(
        "el => [getComputedStyle(el).borderLeftWidth, getComputedStyle(el).borderRightWidth]"
    )
    assert right_to_left == ["0px", "2px"]
    reply_box = replies.bounding_box()
    parent_box = page.locator(".comment", has_text=ARABIC).first.bounding_box()
    assert reply_box["x"] + reply_box["width"] < parent_box["x"] + parent_box["width"]
    assert direction(english) == "ltr" and direction(arabic) == "rtl"
    page.screenshot(path=str(ARTIFACTS / "direction-rtl-page.png"), full_page=True)
