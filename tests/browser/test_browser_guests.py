"""Guests in real Chromium (FORUM_GUESTS=on): a visitor without an account comments
on an article page and in a publisher's embed (third-party cookies blocked), the
browser doing the proof of work; a moderator approves; readers see the guest mark.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    make_app,
    serve,
)
from playwright.sync_api import expect
from sqlalchemy import select
from test_browser_embed import Publisher, frame_of

from forum.extensions import db
from forum.models import Comment, CommentStatus, Role, User
from forum.services.accounts import accounts
from forum.services.discussion import threads
from forum.services.moderation import decisions

SLUG = "lighthouse-finale"
KEY = "finale-first-look"


@pytest.fixture(scope="module")
def publisher():
    with Publisher() as site:
        yield site


@pytest.fixture(scope="module")
def site(tmp_path_factory, publisher):
    app = make_app(
        tmp_path_factory.mktemp("browser-guests"),
        FORUM_GUESTS="on",
        FORUM_EMBED_ORIGINS=publisher.origin,
        # The least work, so the test is quick; the browser still has to do it.
        FORUM_SETTINGS_DEFAULTS={"guest_proof_bits": 12, "guest_min_seconds": 0},
    )
    with app.app_context():
        accounts.register("mona", "mona@example.org", PASSWORD, Role.MODERATOR)
        threads.save_article(SLUG, "The lighthouse finale", "What will the keeper find?")
        threads.thread_for_embed(
            KEY, publisher.origin, "The finale, first look", publisher.url("/story")
        )
        db.session.commit()
    with serve(app) as base_url:
        publisher.forum = base_url
        site = Site(base_url)
        site.app = app
        yield site


def guest_comment(site, body: str) -> Comment:
    with site.app.app_context():
        comment = db.session.scalar(select(Comment).where(Comment.body == body))
        assert comment is not None, "the comment was stored"
        _ = comment.author.display_name, comment.author.is_guest, comment.hold_reasons
        db.session.expunge_all()
        return comment


def approve(site, comment_id: int) -> None:
    with site.app.app_context():
        mona = db.session.scalar(select(User).where(User.username == "mona"))
        decisions.act(mona, db.session.get(Comment, comment_id), "approve")
        db.session.commit()


def test_a_guest_comments_on_an_article_page_and_is_moderated(site, open_context):
    page = open_context(bypass_csp=True).new_page()  # axe goes inline
    page.goto(site.url(f"/articles/{SLUG}"))
    form = page.locator("form.guest-form")
    expect(form.get_by_label("Your name")).to_be_visible()
    # The trap field is there for robots and out of sight (and reach) for people.
    assert (
        not page.locator(".trap input").is_visible()
        or page.locator(".trap").bounding_box()["x"] < 0
    )
    inject_axe(page)
    failures, backgrounds = axe_in_both_schemes(page, "article page with the guest form")
    assert not failures, axe_report(failures)
    assert len(backgrounds) == 2
    page.emulate_media(color_scheme="light")
    form.get_by_label("Your name").fill("Wren Marlow")
    form.get_by_label("Email (optional)").fill("wren@example.org")
    form.get_by_label("Your comment").fill("The keeper wrote the logbook himself.")
    form.get_by_role("button", name="Post as a guest").click()
    expect(page.get_by_text("Your comment was sent and is awaiting moderation.")).to_be_attached()
    page.screenshot(path=str(ARTIFACTS / "guest-article-posted.png"), full_page=True)
    stored = guest_comment(site, "The keeper wrote the logbook himself.")
    assert stored.author.is_guest and stored.author.display_name == "Wren Marlow"
    assert stored.status == CommentStatus.PENDING
    # The browser did the proof of work: the only hold is the guest rule itself.
    assert [r["rule"] for r in stored.hold_reasons] == ["guest"]
    # The name stays in the form for the next comment.
    expect(form.get_by_label("Your name")).to_have_value("Wren Marlow")

    approve(site, stored.id)
    reader = open_context().new_page()
    reader.goto(site.url(f"/articles/{SLUG}"))
    comment = reader.locator(f"#c{stored.id}")
    expect(comment.locator(".author")).to_have_text("Wren Marlow")
    expect(comment.locator(".author-mark")).to_have_text("guest")
    # Another guest answers it in place: the reply box asks for a name too.
    comment.get_by_role("link", name="Reply").click()
    box = reader.locator("form.reply-form")
    box.get_by_label("Your name").fill("Ostrander")
    box.get_by_label("Your reply to Wren Marlow").fill("Or the ferryman did.")
    box.get_by_role("button", name="Post reply as a guest").click()
    expect(reader.get_by_text("Your comment was sent and is awaiting moderation.")).to_be_attached()
    answer = guest_comment(site, "Or the ferryman did.")
    assert answer.parent_id == stored.id and answer.author.display_name == "Ostrander"
    assert [r["rule"] for r in answer.hold_reasons] == ["guest"]
    reader.set_viewport_size({"width": 390, "height": 844})
    reader.screenshot(path=str(ARTIFACTS / "guest-article-approved-phone.png"), full_page=True)


def test_a_guest_comments_in_the_embed_with_third_party_cookies_blocked(site, publisher, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        context.new_cdp_session(page).send(
            "Network.setCookieControls",
            {
                "enableThirdPartyCookieRestriction": True,
                "disableThirdPartyCookieMetadata": True,
                "disableThirdPartyCookieHeuristics": True,
            },
        )
        context.set_default_timeout(8_000)
        page.goto(publisher.url("/story"))
        thread = frame_of(page)
        name = thread.get_by_label("Your name")
        expect(name).to_be_visible()
        name.fill("Juniper")
        thread.get_by_label("Your comment").fill("The ferry never left the harbour.")
        thread.get_by_role("button", name="Post comment").click()
        expect(thread.locator("#embed-notice")).to_have_text(
            "Thank you! Your comment waits for a moderator."
        )
        page.screenshot(path=str(ARTIFACTS / "guest-embed-posted.png"), full_page=True)
        stored = guest_comment(site, "The ferry never left the harbour.")
        assert stored.author.is_guest and stored.author.display_name == "Juniper"
        assert [r["rule"] for r in stored.hold_reasons] == ["guest"]
        approve(site, stored.id)
        page.reload()
        shown = frame_of(page).locator(f"#c{stored.id}")
        expect(shown.locator(".author-mark")).to_have_text("guest")
        # The guest answers another comment in place, their name kept.
        thread = frame_of(page)
        shown.get_by_role("link", name="Reply").click()
        box = thread.locator("form.reply-form")
        box.get_by_label("Your name").fill("Juniper")  # the page was reloaded: asked again
        box.get_by_label("Your reply to Juniper").fill("And the keeper knew it.")
        box.get_by_role("button", name="Post reply").click()
        expect(thread.locator("#embed-notice")).to_have_text(
            "Thank you! Your comment waits for a moderator."
        )
        answer = guest_comment(site, "And the keeper knew it.")
        assert answer.parent_id == stored.id and answer.author.display_name == "Juniper"
        assert [r["rule"] for r in answer.hold_reasons] == ["guest"]
        # A guest name that belongs to a reader is refused in the frame, in words.
        thread.get_by_label("Your name").fill("Mona")
        thread.get_by_label("Your comment").fill("Pretending.")
        thread.get_by_role("button", name="Post comment").click()
        expect(
            thread.get_by_text("That name belongs to a reader here; choose another.")
        ).to_be_visible()
    finally:
        context.close()
