"""Signing in with an account elsewhere, in real Chromium: from the embed's
sign-in popup, through the test suite's OpenID provider on loopback
(tests/oidc_provider.py), to a comment posted in the frame on a publisher's
page while Chromium blocks third-party cookies. axe runs over the new pages
(light and dark), and screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re

import pytest
from browser_support import (
    ARTIFACTS,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    make_app,
    serve,
)
from playwright.sync_api import Page, expect
from sqlalchemy import select
from test_browser_embed import KEY, Publisher

from forum.extensions import db
from forum.models import Comment, ExternalIdentity, OutboxMessage
from forum.services.accounts import accounts
from forum.services.discussion import threads
from tests.conftest import PASSWORD
from tests.oidc_provider import provider_config, running_provider

EXPECT_TIMEOUT_MS = 8_000


@pytest.fixture(scope="module")
def provider():
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def publisher():
    with Publisher() as site:
        yield site


@pytest.fixture(scope="module")
def forum(tmp_path_factory, publisher, provider):
    app = make_app(
        tmp_path_factory.mktemp("browser-sign-in-elsewhere"),
        FORUM_EMBED_ORIGINS=publisher.origin,
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
        FORUM_SIGN_IN_PROVIDERS=provider_config(provider, label="Example ID"),
    )
    with app.app_context():
        accounts.register("lena", "lena@example.org", PASSWORD)
        threads.thread_for_embed(
            KEY, publisher.origin, "The finale, first look", publisher.url("/story")
        )
        db.session.commit()
    with serve(app) as base_url:
        publisher.forum = base_url
        site = Site(base_url)
        site.app = app
        yield site


@pytest.fixture
def blocked_context(browser):
    """A context in which Chromium blocks third-party cookies (and so the
    frame's storage), as tests/browser/test_browser_embed.py does."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    context.new_cdp_session(page).send(
        "Network.setCookieControls",
        {
            "enableThirdPartyCookieRestriction": True,
            "disableThirdPartyCookieMetadata": True,
            "disableThirdPartyCookieHeuristics": True,
        },
    )
    page.close()
    context.set_default_timeout(8_000)
    yield context
    context.close()


def check_page(page: Page, name: str) -> None:
    """axe in light and dark, and a screenshot of each to look at."""
    inject_axe(page)
    failures, _ = axe_in_both_schemes(page, name)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(ARTIFACTS / f"sign-in-elsewhere-{name}-{scheme}.png"))
    page.emulate_media(color_scheme="light")
    assert not failures, axe_report(failures)


def test_a_reader_signs_in_through_the_provider_in_the_popup_and_comments(
    forum, publisher, provider, blocked_context
):
    provider.user = {
        "sub": "browser-reader",
        "email": "browser@provider.example",
        "email_verified": True,
        "name": "Bea Browser",
        "preferred_username": "bea",
    }
    page = blocked_context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(publisher.url("/story"))
    thread = page.frame_locator("#forum-thread iframe")
    assert (
        page.frames[1].evaluate(
            "() => { try { localStorage.length; return 'usable'; } catch (e) { return 'denied'; } }"
        )
        == "denied"
    )

    with page.expect_popup() as opened:
        thread.get_by_role("button", name="Sign in to comment").click()
    popup = opened.value
    popup.set_viewport_size({"width": 480, "height": 760})
    button = popup.get_by_role("link", name="Continue with Example ID")
    expect(button).to_be_visible()
    check_page(popup, "login-popup")

    button.click()  # to the provider, which approves, and back
    expect(popup.get_by_role("heading", name="Choose your username")).to_be_visible()
    expect(popup.get_by_label("Username")).to_have_value("bea")
    check_page(popup, "choose-username")
    popup.get_by_label("Username").fill("bea-reads")
    popup.get_by_role("button", name="Create my account").click()

    expect(popup.get_by_role("heading", name=f"Comment on {publisher.origin}")).to_be_visible()
    popup.get_by_role("button", name="Continue as Bea Browser").click()
    popup.wait_for_event("close")
    expect(thread.get_by_text("Signed in as Bea Browser")).to_be_visible()

    thread.get_by_label("Your comment").fill("Signed in from elsewhere: the keeper knew.")
    thread.get_by_role("button", name="Post comment").click()
    expect(
        thread.locator(".comment", has_text="Signed in from elsewhere: the keeper knew.")
    ).to_be_visible()
    assert page.url == publisher.url("/story")
    assert not errors, errors
    with forum.app.app_context():
        comment = db.session.scalar(select(Comment).where(Comment.body.contains("elsewhere")))
        assert comment.author.username == "bea-reads"
        identity = db.session.scalar(select(ExternalIdentity))
        assert (identity.subject, identity.user_id) == ("browser-reader", comment.author_id)

    # The popup signed the reader in on the forum itself too: its security page
    # lists the provider (unlinkable: the confirmed address lets emailed links in)
    # and offers a password by the reset link instead of asking for a current one.
    own = blocked_context.new_page()
    own.goto(forum.url("/account/security"))
    linked = own.get_by_role("region", name="Accounts elsewhere")
    expect(linked).to_contain_text("Example ID (browser@provider.example)")
    expect(linked.get_by_role("button", name="Unlink Example ID")).to_be_visible()
    expect(own.get_by_role("link", name="ask for a password link")).to_be_visible()
    expect(own.get_by_label("Current password")).to_have_count(0)
    check_page(own, "security")


def test_the_email_link_pages_are_accessible(forum, browser):
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.goto(forum.url("/auth/login"))
        check_page(page, "login-phone")
        page.get_by_label("Email", exact=True).fill("lena@example.org")
        page.get_by_role("button", name="Email me a sign-in link").click()
        expect(page.get_by_text("a sign-in link is on its way")).to_be_visible()
        with forum.app.app_context():
            body = db.session.scalar(
                select(OutboxMessage.body).where(OutboxMessage.subject == "Your sign-in link")
            )
        path = re.search(r"(/auth/email-link/\S+)", body).group(1)
        page.goto(forum.url(path))
        check_page(page, "email-link-confirm")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".whoami")).to_be_visible()
        page.goto(forum.url(path))
        expect(page.get_by_role("heading", name="This link does not work any more")).to_be_visible()
        check_page(page, "email-link-used")
    finally:
        context.close()


def test_the_refusal_page_is_accessible(forum, browser):
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(forum.url("/auth/external/oidc/callback?code=x&state=forged"))
        expect(page.get_by_role("heading", name="Signing in did not work")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("not started here")
        check_page(page, "refused")
    finally:
        context.close()
