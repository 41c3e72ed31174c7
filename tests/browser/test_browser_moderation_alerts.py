"""Moderators are told, in real Chromium: a reader's comment is held, the header's
Moderation link counts it, the moderator's digest email and the alerts webhook
(a real HTTP receiver on 127.0.0.1) carry it, deciding in place clears the count,
and a moderator changes how often they are emailed.  Axe in light and dark;
screenshots to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    PHONE,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    make_app,
    serve,
)
from playwright.sync_api import expect

from forum.extensions import db
from forum.models import AlertFrequency, Role
from forum.services import settings
from forum.services.accounts import accounts
from forum.services.discussion import threads
from forum.services.notify import alerts, outbox

STORY = "the-lighthouse-keepers-log"
SUSPECT = "zeppelin"
BASE = "https://talk.example"
SECRET = "browser-alerts-secret"


class Receiver:
    """A webhook receiver on 127.0.0.1 keeping every call."""

    def __init__(self):
        self.calls: list[dict] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                calls.append({"headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver():
    made = Receiver()
    yield made
    made.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory, receiver):
    folder = tmp_path_factory.mktemp("browser-alerts")
    app = make_app(
        folder,
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
        FORUM_OUTBOX_DIR=str(folder / "outbox"),
        FORUM_BASE_URL=BASE,
    )
    with app.app_context():
        threads.save_article(STORY, "The Lighthouse Keeper's Log", "Who lit the lamp?")
        accounts.register("lena", "lena@example.org", PASSWORD)
        mira = accounts.register("mira", "mira@example.org", PASSWORD, Role.MODERATOR)
        mira.moderation_alerts = AlertFrequency.IMMEDIATE
        accounts.register("otto", "otto@example.org", PASSWORD, Role.MODERATOR)
        settings.save(
            settings.parse(
                settings.as_form(
                    {
                        "suspect_words": [SUSPECT],
                        "alert_webhook_url": receiver.url,
                        "alert_webhook_secret": SECRET,
                    }
                )
            )
        )
        db.session.commit()
    with serve(app) as base_url:
        yield Site(base_url, {"app": app, "outbox": folder / "outbox"})


def delivery_pass(site) -> None:
    """What the background sender does every few seconds (off under tests)."""
    with site.ids["app"].app_context():
        alerts.queue_digests()
        outbox.send_due()


def badge(page):
    return page.locator(".site-header .moderation-link [data-waiting-badge]")


@pytest.mark.browser
def test_a_held_comment_is_counted_mailed_and_posted_then_cleared(site, as_user, receiver):
    moderator = as_user("mira")
    page = moderator.page
    page.goto(site.url("/"))
    expect(page.get_by_role("link", name="Moderation", exact=True)).to_be_visible()
    expect(badge(page)).to_have_count(0)  # nothing waits

    reader = as_user("lena")
    reader.page.goto(site.url(f"/articles/{STORY}"))
    text = f"The {SUSPECT} crew lit the lamp, I am sure of it."
    reader.page.get_by_label("Your comment").fill(text)
    reader.page.get_by_role("button", name="Post comment").click()
    posted = reader.page.locator("article.comment", has_text=text)
    expect(posted.locator(".badge")).to_have_text("awaiting moderation")
    expect(reader.page.locator(".site-header [data-waiting-badge]")).to_have_count(0)
    reader.assert_clean()

    page.reload()
    expect(badge(page)).to_have_text("1 waiting")
    expect(page.get_by_role("link", name="Moderation 1 waiting")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.locator(".site-header").screenshot(
            path=str(ARTIFACTS / f"alerts-header-badge-{scheme}.png")
        )
    page.emulate_media(color_scheme="light")

    # The delivery pass: the digest email and the webhook call, once each.
    delivery_pass(site)
    delivery_pass(site)
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), call["body"], hashlib.sha256).hexdigest()
    assert call["headers"]["X-Forum-Signature"] == expected
    data = json.loads(call["body"])
    assert data["event"] == "comment.held" and data["comment"]["excerpt"] == text
    item_link = data["queue_url"]
    assert item_link.startswith(f"{BASE}/moderation/queue/pending#item-")
    mails = sorted(site.ids["outbox"].glob("*.eml"))
    assert len(mails) == 1  # mira's, at once; otto's daily digest waits its day
    mail = email.message_from_bytes(mails[0].read_bytes(), policy=policy.default)
    assert mail["To"] == "mira@example.org"
    assert mail["Subject"] == "1 comment waits for moderation"
    body = mail.get_content()
    assert text in body and item_link in body and f"Suspect words: {SUSPECT}" in body

    # The link takes the moderator to the queue; deciding in place clears the count.
    page.get_by_role("link", name="Moderation 1 waiting").click()
    held = page.locator("li.mod-item", has_text="crew lit the lamp")
    expect(held).to_be_visible()
    held.get_by_role("button", name="Approve").click()
    expect(held).to_be_hidden()
    expect(badge(page)).to_be_hidden()
    expect(page.locator('[data-queue-count="pending"]').first).to_have_text("0")
    moderator.assert_clean()


@pytest.mark.browser
def test_a_moderator_changes_how_often_they_are_emailed(site, as_user):
    watched = as_user("otto")
    page = watched.page
    page.goto(site.url("/account/notifications"))
    section = page.get_by_role("region", name="Comments waiting for moderation")
    expect(section).to_be_visible()
    expect(section.get_by_label("A daily digest")).to_be_checked()  # the default
    # By keyboard, as the radio group works: focus the checked one, arrow to the next.
    section.get_by_label("A daily digest").focus()
    page.keyboard.press("ArrowUp")
    expect(section.get_by_label("An hourly digest")).to_be_checked()
    section.get_by_role("button", name="Save alert emails").click()
    expect(page.get_by_role("status")).to_contain_text(
        "We will email you an hourly digest of comments waiting for moderation."
    )
    expect(page).to_have_url(site.url("/account/notifications#moderation-alerts"))
    expect(
        page.get_by_role("region", name="Comments waiting for moderation").get_by_label(
            "An hourly digest"
        )
    ).to_be_checked()
    watched.assert_clean()


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
def test_alert_choice_screenshots(site, open_context, state_of, label, options):
    page = open_context(storage_state=state_of("mira"), **options).new_page()
    page.goto(site.url("/account/notifications#moderation-alerts"))
    expect(page.get_by_role("heading", name="Comments waiting for moderation")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px ({label})"
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"alerts-notifications-{label}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.parametrize(
    ("name", "who", "path", "viewport"),
    [
        ("header-with-count", "mira", "/", None),
        ("header-with-count-phone", "mira", "/", PHONE),
        ("notifications-moderator", "mira", "/account/notifications", None),
        ("notifications-moderator-phone", "mira", "/account/notifications", PHONE),
    ],
)
def test_axe_finds_no_serious_violations(site, open_context, state_of, name, who, path, viewport):
    # Something waits, so the header shows its count.
    with site.ids["app"].app_context():
        from forum.models import User
        from forum.services.discussion import comments

        lena = accounts.find_user("lena")
        comments.post_comment(
            db.session.get(User, lena.id), threads.thread_by_key(STORY), f"A {SUSPECT} for {name}"
        )
        db.session.commit()
    options = {"storage_state": state_of(who), "bypass_csp": True}
    if viewport:
        options.update(viewport=viewport, is_mobile=True, has_touch=True)
    page = open_context(**options).new_page()
    page.emulate_media(color_scheme="light")
    page.goto(site.url(path))
    expect(badge(page)).to_be_visible()
    inject_axe(page)
    failures, backgrounds = axe_in_both_schemes(page, name)
    assert len(backgrounds) == 2, f"the dark scheme did not apply: {backgrounds}"
    assert not failures, f"axe on {name}:\n{axe_report(failures)}"
    page.emulate_media(color_scheme="dark")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"alerts-axe-{name}-dark.png"))
