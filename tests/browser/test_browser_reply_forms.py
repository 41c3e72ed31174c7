"""Reply boxes and idempotency keys on the article page and in the embedded
thread, which share static/js/comment-dom.js: in both the reply box is labelled
(its label names whom it answers), takes no more than the server accepts, and
passes axe while open; both send keys of one form, a version 4 UUID, as the
server's own forms do, with or without crypto.randomUUID (a forum served over
plain http has none).  Screenshots of the open boxes land in test-artifacts/.
(Scaffolding: tests/browser/browser_support.py and conftest.py.)"""

from __future__ import annotations

import json
import re

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    Site,
    Watched,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    log_in,
    make_app,
    serve,
)
from playwright.sync_api import Page, Request, expect

from forum.extensions import db
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads
from forum.services.discussion.comments import BODY_MAX

ARTICLE = "reply-boxes"
EMBEDDED = "reply-boxes-embedded"
PUBLISHER = "http://localhost:9"  # allowed to frame the thread; never contacted
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("reply-forms"),
        FORUM_EMBED_ORIGINS=PUBLISHER,
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
    )
    with app.app_context():
        lena = accounts.register("lena", "lena@example.org", PASSWORD)
        kira = accounts.register("kira", "kira@example.org", PASSWORD)
        threads.save_article(ARTICLE, "Reply boxes", "A story to answer.")
        threads.thread_for_embed(EMBEDDED, PUBLISHER, "Reply boxes, embedded", PUBLISHER + "/s")
        db.session.flush()
        on_page = comments.post_comment(lena, threads.thread_by_key(ARTICLE), "On the page.")
        in_frame = comments.post_comment(lena, threads.thread_by_key(EMBEDDED), "In the frame.")
        ids = {"article": on_page.id, "embedded": in_frame.id}
        token, _ = accounts.issue_token(kira, 24)
        db.session.commit()
    with serve(app) as base_url:
        site = Site(base_url, ids)
        site.token = token
        yield site


def open_discussion(site: Site, page: Page, where: str) -> str:
    """kira on the article page, or in the embedded thread's frame document
    (opened directly, with the token the sign-in popup would have handed it);
    returns the id of lena's comment there."""
    if where == "article":
        log_in(page, site, "kira", f"/articles/{ARTICLE}")
    else:
        page.add_init_script(f"localStorage.setItem('forum-token', {json.dumps(site.token)})")
        page.goto(site.url(f"/embed/threads/{EMBEDDED}?origin={PUBLISHER}"))
        expect(page.get_by_text("Signed in as kira")).to_be_visible()
    return str(site.ids[where])


def sent_key(request: Request) -> str | None:
    """The idempotency key a comment POST carried: the page's form field
    (multipart, as FormData sends it) or the API's header."""
    if "idempotency-key" in request.headers:
        return request.headers["idempotency-key"]
    found = re.search(r'name="idempotency_key"\r\n\r\n([^\r]*)\r\n', request.post_data or "")
    return found.group(1) if found else None


@pytest.mark.browser
@pytest.mark.parametrize("where", ["article", "embedded"])
def test_the_reply_box_is_labelled_bounded_and_passes_axe(site, open_context, where):
    w = Watched(open_context(bypass_csp=True).new_page())  # axe goes inline
    page = w.page
    comment_id = open_discussion(site, page, where)
    page.locator(f"#c{comment_id} [data-reply]").click()
    form = page.locator(f"#c{comment_id} + form.reply-form")
    box = form.get_by_role("textbox", name="Your reply to lena", exact=True)
    expect(box).to_be_focused()
    expect(box).to_have_attribute("maxlength", str(BODY_MAX))
    expect(page.get_by_label("Your reply to lena", exact=True)).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(f"li:has(> #c{comment_id})").screenshot(
        path=str(ARTIFACTS / f"reply-form-{where}.png")
    )

    inject_axe(page)
    failures, _ = axe_in_both_schemes(page, f"reply box ({where})")
    assert not failures, axe_report(failures)

    # Reply again: the open box is focused, not a second one opened.
    box.fill("Half written")
    page.locator(f"#c{comment_id} [data-reply]").click()
    expect(form).to_have_count(1)
    expect(box).to_be_focused()
    expect(box).to_have_value("Half written")
    form.get_by_role("button", name="Cancel").click()
    expect(form).to_have_count(0)
    expect(page.locator(f"#c{comment_id} [data-reply]")).to_be_focused()
    w.assert_clean()


@pytest.mark.browser
@pytest.mark.parametrize("random_uuid", ["native", "missing"])
def test_both_pages_send_keys_of_one_form(site, open_context, random_uuid):
    """A comment and a reply from each page: four posts, four distinct version 4
    UUIDs, like the key the server puts in the page's own form."""
    keys: dict[str, list[str]] = {}
    rendered = None
    for where in ("article", "embedded"):
        w = Watched(open_context().new_page())
        page = w.page
        if random_uuid == "missing":  # as in a page that is not a secure context
            page.add_init_script("delete Crypto.prototype.randomUUID")
        posts: list[Request] = []
        page.on(
            "request",
            lambda r, posts=posts: r.method == "POST" and "comments" in r.url and posts.append(r),
        )
        comment_id = open_discussion(site, page, where)
        if where == "article":
            rendered = page.locator("#new-comment input[name=idempotency_key]").input_value()
            assert page.evaluate("typeof crypto.randomUUID") == (
                "function" if random_uuid == "native" else "undefined"
            )
        text = f"A comment from the {where} ({random_uuid})"
        page.get_by_label("Your comment").fill(text)
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator("article.comment", has_text=text)).to_have_count(1)
        page.locator(f"#c{comment_id} [data-reply]").click()
        form = page.locator(f"#c{comment_id} + form.reply-form")
        reply = f"A reply from the {where} ({random_uuid})"
        form.get_by_role("textbox").fill(reply)
        form.get_by_role("button", name="Post reply").click()
        expect(page.locator("article.comment", has_text=reply)).to_have_count(1)
        keys[where] = [sent_key(r) for r in posts]
        w.assert_clean()

    assert rendered is not None and UUID4.fullmatch(rendered), rendered
    sent = keys["article"] + keys["embedded"]
    assert len(keys["article"]) == len(keys["embedded"]) == 2, keys
    assert all(key is not None and UUID4.fullmatch(key) for key in sent), keys
    assert len(set(sent)) == 4, keys
