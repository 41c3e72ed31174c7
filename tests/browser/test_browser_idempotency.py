"""thread.js and idempotency keys in Chromium: each comment posted from the same
box, and each inline reply box, gets its own key; a form sent again with a key
already used shows the comment it made instead of a second one.
(Scaffolding: tests/browser/browser_support.py.)"""

from __future__ import annotations

import browser_support
import pytest
from browser_support import Site, Watched, log_in, make_app, serve
from playwright.sync_api import expect
from sqlalchemy import select

from forum.extensions import db
from forum.models import Comment
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

SLUG = "keys-in-the-browser"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("keys"), FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10**4}
    )
    with app.app_context():
        threads.save_article(SLUG, "Keys", "A story to comment on.")
        db.session.flush()
        other = accounts.register("otto", "otto@example.org", browser_support.PASSWORD)
        accounts.register("kira", "kira@example.org", browser_support.PASSWORD)
        thread = threads.thread_by_key(SLUG)
        ids = {f"parent{n}": comments.post_comment(other, thread, f"Parent {n}").id for n in (1, 2)}
        db.session.commit()
    with serve(app) as base_url:
        site = Site(base_url, ids)
        site.app = app
        yield site


def bodies(site) -> list[str]:
    with site.app.app_context():
        found = db.session.scalars(select(Comment.body).order_by(Comment.id)).all()
        db.session.remove()
        return found


@pytest.mark.browser
def test_every_post_and_reply_gets_its_own_key(site, open_context):
    w = Watched(open_context().new_page())
    page = w.page
    log_in(page, site, "kira", f"/articles/{SLUG}")
    box = page.get_by_label("Your comment")
    for text in ("First from this box", "Second from this box"):
        box.fill(text)
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator("article.comment", has_text=text)).to_have_count(1)
        expect(box).to_have_value("")
    for n in (1, 2):
        parent = site.ids[f"parent{n}"]
        page.locator(f"#c{parent} a.reply-link").click()
        form = page.locator(f"#c{parent} + form.reply-form")
        form.locator("textarea").fill(f"Reply {n}")
        form.get_by_role("button", name="Post reply").click()
        expect(page.locator("article.comment", has_text=f"Reply {n}")).to_have_count(1)
    assert bodies(site)[-4:] == [
        "First from this box",
        "Second from this box",
        "Reply 1",
        "Reply 2",
    ]
    w.assert_clean()


@pytest.mark.browser
def test_a_form_sent_again_shows_the_comment_it_made(site, open_context):
    w = Watched(open_context().new_page())
    page = w.page
    log_in(page, site, "kira", f"/articles/{SLUG}")
    key = page.locator("#new-comment input[name=idempotency_key]")
    used = key.input_value()
    page.get_by_label("Your comment").fill("Only once, please")
    page.get_by_role("button", name="Post comment").click()
    posted = page.locator("article.comment", has_text="Only once, please")
    expect(posted).to_have_count(1)
    assert key.input_value() != used
    # As if the answer had been lost and the reader sent the same form again.
    key.evaluate("(input, used) => { input.value = used; }", used)
    page.get_by_label("Your comment").fill("Only once, please")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#thread-live")).to_have_text("Your comment was posted.")
    expect(posted).to_have_count(1)
    expect(posted).to_be_focused()
    assert bodies(site).count("Only once, please") == 1
    w.assert_clean()
