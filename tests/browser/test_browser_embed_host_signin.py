"""The publisher's page and the frame keep one sign-in, in real Chromium with
third-party cookies blocked (the frame then has no storage at all).

A publisher on http://localhost:<port> (another site than the forum on
127.0.0.1) whose page embeds a thread and has its own login: a button that asks
the publisher's server for a sign-on token and hands it to the frame with
`forumEmbed.signIn(token)`, and "Log out" with `forumEmbed.signOut()`. The page
records the events embed.js dispatches on the embed's element, as a publisher's
script would listen to them. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import html
import json
import threading
import time
import uuid

import jwt
import pytest
from browser_support import (
    ARTIFACTS,
    PASSWORD,
    PHONE,
    Site,
    axe_in_both_schemes,
    axe_report,
    inject_axe,
    log_in,
    make_app,
    serve,
)
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from forum.extensions import db
from forum.models import ApiToken, Comment, Role, User, utcnow
from forum.services.accounts import accounts
from forum.services.discussion import sites, threads

EXPECT_TIMEOUT_MS = 8_000
KEY = "host-signin-story"
READERS = {
    "ada": "Ada from the newsroom",
    "bea": "Bea from the newsroom",
    "cyd": "Cyd from the newsroom",
}

# The publisher's own script: its login button, and the frame's events written
# down where the test (and a person looking at the screenshot) can read them.
HOST_SCRIPT = """
<script>
  var box = document.getElementById("forum-thread");
  window.forumEvents = [];
  ["forum:signin-needed", "forum:signed-in", "forum:signed-out", "forum:signin-failed"]
    .forEach(function (name) {
      box.addEventListener(name, function (event) {
        window.forumEvents.push({ name: name, detail: event.detail });
        var line = document.createElement("li");
        line.textContent = name + " " + JSON.stringify(event.detail);
        document.getElementById("events").append(line);
        if (name === "forum:signin-needed" && box.dataset.login === "host") {
          document.getElementById("login").showModal();
        }
      });
    });
  function signInAs(reader) {
    fetch("/token?reader=" + reader).then(function (r) { return r.text(); })
      .then(function (token) { forumEmbed.signIn(token); });
  }
  document.querySelectorAll("[data-reader]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.getElementById("login").close();
      signInAs(button.dataset.reader);
    });
  });
  document.getElementById("logout").addEventListener("click", function () {
    forumEmbed.signOut();
  });
</script>
"""


class Publisher:
    """A news site with its own accounts, which signs its readers' tokens."""

    def __init__(self):
        self.forum = ""
        self.secret = ""
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.origin = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def token(self, reader: str, **claims) -> str:
        now = int(time.time())
        body = {"sub": f"news-{reader}", "username": reader, "name": READERS[reader], **claims}
        body.update(iat=now, exp=now + 300, jti=uuid.uuid4().hex, aud=self.origin)
        return jwt.encode(body, self.secret, algorithm="HS256", headers={"kid": self.origin})

    def app(self, environ, start_response):
        request = Request(environ)
        if request.path == "/token":
            return Response(self.token(request.args["reader"]))(environ, start_response)
        login = ' data-login="host"' if request.args.get("login") == "host" else ""
        reader = request.args.get("reader")
        sso = f' data-sso="{html.escape(self.token(reader))}"' if reader else ""
        buttons = "".join(
            f'<button type="button" data-reader="{name}">Log in as {name}</button>'
            for name in READERS
        )
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>News site</title></head><body><main>"
            "<h1>The harbour story</h1><p>Our readers discuss it below.</p>"
            f'<p>{buttons} <button type="button" id="logout">Log out</button></p>'
            '<dialog id="login" aria-labelledby="login-title"><h2 id="login-title">'
            "Log in to News site</h2><p>Comments use your News site account.</p>"
            f'<form method="dialog">{buttons}<button>Cancel</button></form></dialog>'
            f'<div id="forum-thread" data-thread="{KEY}" data-title="The harbour story" '
            f'data-url="{self.origin}/story"{login}{sso}></div>'
            '<h2>What the frame told this page</h2><ol id="events"></ol>'
            f'<script src="{self.forum}/embed.js"></script>{HOST_SCRIPT}'
            "</main></body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")(environ, start_response)

    def url(self, path: str) -> str:
        return self.origin + path


@pytest.fixture(scope="module")
def publisher():
    site = Publisher()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.thread.join(10)
    site.server.server_close()


@pytest.fixture(scope="module")
def forum(tmp_path_factory, publisher):
    app = make_app(
        tmp_path_factory.mktemp("browser-embed-host-signin"),
        FORUM_EMBED_ORIGINS=publisher.origin,
        FORUM_EMBED_POLL_SECONDS=0,
        FORUM_SETTINGS_DEFAULTS={"new_account_comments": 10_000},
    )
    with app.app_context():
        accounts.register("root", "root@example.org", PASSWORD, Role.ADMIN)
        threads.thread_for_embed(KEY, publisher.origin, "The harbour story", publisher.url("/"))
        publisher.secret = sites.new_sso_secret(None, publisher.origin)
        db.session.commit()
    with serve(app) as base_url:
        publisher.forum = base_url
        site = Site(base_url)
        site.app = app
        yield site


@pytest.fixture
def blocked_page(browser):
    """A page in a context with Chromium's third-party cookie blocking on (the
    frame gets no cookies and no storage), and every popup it opens."""
    context = browser.new_context()
    context.set_default_timeout(8_000)
    page = context.new_page()
    context.new_cdp_session(page).send(
        "Network.setCookieControls",
        {
            "enableThirdPartyCookieRestriction": True,
            "disableThirdPartyCookieMetadata": True,
            "disableThirdPartyCookieHeuristics": True,
        },
    )
    page.popups = []
    context.on("page", lambda opened: page.popups.append(opened.url))
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def frame_of(page: Page):
    return page.frame_locator("#forum-thread iframe")


def events(page: Page) -> list[dict]:
    return page.evaluate("() => window.forumEvents")


def wait_for_event(page: Page, name: str, count: int = 1) -> None:
    page.wait_for_function(
        f"() => window.forumEvents.filter(e => e.name === {json.dumps(name)}).length >= {count}"
    )


def live_tokens(forum, username: str) -> int:
    with forum.app.app_context():
        return len(
            db.session.scalars(
                select(ApiToken).where(
                    ApiToken.user.has(username=username), ApiToken.revoked_at.is_(None)
                )
            ).all()
        )


def eventually(check, seconds: float = 5.0) -> None:
    """check() becomes true within seconds (the frame's requests are in flight)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.05)


def storage_denied(page: Page) -> bool:
    return page.frames[1].evaluate(
        "() => { try { localStorage.length; return false; } catch (e) { return true; } }"
    )


def test_the_host_page_changes_who_is_signed_in(forum, publisher, blocked_page):
    page = blocked_page
    page.goto(publisher.url("/story?reader=ada"))
    thread = frame_of(page)
    expect(thread.get_by_text("Signed in as Ada from the newsroom")).to_be_visible()
    assert storage_denied(page)  # memory only: no cookie, no storage helps here
    wait_for_event(page, "forum:signed-in")
    assert events(page) == [
        {
            "name": "forum:signed-in",
            "detail": {"user": {"username": "ada", "display_name": "Ada from the newsroom"}},
        }
    ]
    assert live_tokens(forum, "ada") == 1

    # The publisher's reader changes (another person logs in on the same page).
    page.get_by_role("button", name="Log in as bea").first.click()
    expect(thread.get_by_text("Signed in as Bea from the newsroom")).to_be_visible()
    wait_for_event(page, "forum:signed-in", 2)
    assert events(page)[-1]["detail"]["user"]["username"] == "bea"
    # Ada's forum token was ended, not just forgotten.
    eventually(lambda: live_tokens(forum, "ada") == 0)
    assert live_tokens(forum, "bea") == 1

    thread.get_by_label("Your comment").fill("Bea here: the ferry never left.")
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment", has_text="the ferry never left")).to_be_visible()
    with forum.app.app_context():
        posted = db.session.scalar(select(Comment).where(Comment.body.contains("ferry never")))
        assert posted.author.username == "bea"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-host-signin-bea.png"), full_page=True)

    # Two sign-ins in a row: the frame ends as the last one.
    page.evaluate(
        "([one, two]) => { forumEmbed.signIn(one); forumEmbed.signIn(two); }",
        [publisher.token("ada"), publisher.token("cyd")],
    )
    expect(thread.get_by_text("Signed in as Cyd from the newsroom")).to_be_visible()
    eventually(lambda: live_tokens(forum, "bea") == 0)
    assert page.url == publisher.url("/story?reader=ada")  # no navigation
    assert page.popups == [] and page.errors == []


def test_the_host_page_signs_the_reader_out(forum, publisher, blocked_page):
    page = blocked_page
    page.goto(publisher.url("/story?reader=ada"))
    thread = frame_of(page)
    expect(thread.get_by_text("Signed in as Ada from the newsroom")).to_be_visible()
    before = live_tokens(forum, "ada")
    page.get_by_role("button", name="Log out").click()
    expect(thread.get_by_role("button", name="Sign in to comment")).to_be_visible()
    expect(thread.get_by_text("Signed in as")).to_be_hidden()
    expect(thread.get_by_label("Your comment")).to_be_hidden()
    wait_for_event(page, "forum:signed-out")
    assert [e["name"] for e in events(page)] == ["forum:signed-in", "forum:signed-out"]
    eventually(lambda: live_tokens(forum, "ada") == before - 1)
    # Signing in again works with a fresh token from the page.
    page.get_by_role("button", name="Log in as ada").first.click()
    expect(thread.get_by_text("Signed in as Ada from the newsroom")).to_be_visible()
    assert page.errors == []


def test_a_refused_token_is_said_in_the_frame_and_to_the_page(forum, publisher, blocked_page):
    page = blocked_page
    page.goto(publisher.url("/story?reader=ada"))
    thread = frame_of(page)
    expect(thread.get_by_text("Signed in as Ada from the newsroom")).to_be_visible()
    spent = page.locator("#forum-thread").get_attribute("data-sso")
    # Another reader's token that was used already: refused, and Ada is not
    # left signed in in the other person's place.
    page.evaluate("t => forumEmbed.signOut()", None)
    expect(thread.get_by_role("button", name="Sign in to comment")).to_be_visible()
    page.evaluate("t => forumEmbed.signIn(t)", spent)
    wait_for_event(page, "forum:signin-failed")
    failed = [e for e in events(page) if e["name"] == "forum:signin-failed"][0]
    assert "already used" in failed["detail"]["message"]
    expect(thread.get_by_role("alert")).to_contain_text("already used")
    expect(thread.get_by_role("button", name="Sign in to comment")).to_be_visible()


def test_with_the_hosts_login_the_frame_asks_the_page_and_opens_no_window(
    forum, publisher, blocked_page
):
    page = blocked_page
    page.goto(publisher.url("/story?login=host"))
    thread = frame_of(page)
    signin = thread.get_by_role("button", name="Sign in to comment")
    expect(signin).to_be_visible()
    expect(thread.get_by_role("button", name="Register")).to_be_hidden()
    signin.click()
    wait_for_event(page, "forum:signin-needed")
    assert events(page) == [{"name": "forum:signin-needed", "detail": {"reason": "signin"}}]
    # The publisher shows its own login (a dialog on its page), not ours.
    dialog = page.get_by_role("dialog", name="Log in to News site")
    expect(dialog).to_be_visible()
    page.wait_for_timeout(300)
    assert page.popups == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-host-login-dialog.png"), full_page=True)

    dialog.get_by_role("button", name="Log in as cyd").click()
    expect(thread.get_by_text("Signed in as Cyd from the newsroom")).to_be_visible()
    thread.get_by_label("Your comment").fill("Cyd, through the newsroom's own login.")
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment", has_text="newsroom's own login")).to_be_visible()
    # The frame's own sort links keep the host's login. The frame reloads, and
    # with no storage its sign-in is gone: the page is asked for a fresh one (the
    # one it gave is used up and is not sent again).
    thread.get_by_role("link", name="Newest").click()
    expect(thread.get_by_role("link", name="Newest")).to_have_attribute("aria-current", "true")
    expect(thread.get_by_role("button", name="Register")).to_be_hidden()
    wait_for_event(page, "forum:signin-needed", 2)
    assert events(page)[-1] == {"name": "forum:signin-needed", "detail": {"reason": "expired"}}
    expect(thread.get_by_role("alert")).to_be_hidden()  # no "already used" error
    dialog.get_by_role("button", name="Log in as cyd").click()
    expect(thread.get_by_text("Signed in as Cyd from the newsroom")).to_be_visible()
    assert page.popups == [] and page.errors == []


def test_an_ended_sign_in_asks_the_page_again_and_keeps_the_words(forum, publisher, blocked_page):
    page = blocked_page
    page.goto(publisher.url("/story?login=host&reader=bea"))
    thread = frame_of(page)
    expect(thread.get_by_text("Signed in as Bea from the newsroom")).to_be_visible()
    thread.get_by_label("Your comment").fill("Bea again: the keeper kept two logbooks.")
    with forum.app.app_context():  # ended elsewhere (expired, or signed out on another device)
        for token in db.session.scalars(select(ApiToken).where(ApiToken.user.has(username="bea"))):
            token.revoked_at = utcnow()
        db.session.commit()
    thread.get_by_role("button", name="Post comment").click()
    wait_for_event(page, "forum:signed-out")
    expect(thread.locator("#embed-error")).to_have_text(
        "Your sign-in has ended. Sign in again to post: what you wrote is kept."
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "embed-host-signin-ended.png"), full_page=True)
    needed = [e for e in events(page) if e["name"] == "forum:signin-needed"]
    assert needed == [{"name": "forum:signin-needed", "detail": {"reason": "expired"}}]
    expect(thread.get_by_role("button", name="Sign in to comment")).to_be_visible()
    # The page's login answers; the words are still there to post.
    page.get_by_role("dialog").get_by_role("button", name="Log in as bea").click()
    expect(thread.get_by_label("Your comment")).to_have_value(
        "Bea again: the keeper kept two logbooks."
    )
    expect(thread.locator("#embed-error")).to_be_hidden()
    expect(thread.locator("#embed-compose").get_by_role("alert")).to_be_hidden()
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.locator(".comment", has_text="two logbooks")).to_be_visible()
    assert page.popups == [] and page.errors == []


def test_without_the_hosts_login_our_window_opens_and_the_page_hears_of_it(
    forum, publisher, blocked_page
):
    page = blocked_page
    page.goto(publisher.url("/story"))
    thread = frame_of(page)
    with page.expect_popup() as opened:
        thread.get_by_role("button", name="Sign in to comment").click()
    assert "/auth/login" in opened.value.url
    wait_for_event(page, "forum:signin-needed")
    opened.value.close()


def test_a_reader_who_signed_in_with_us_stays_anonymous_to_the_page(forum, publisher, blocked_page):
    with forum.app.app_context():
        accounts.register("lena", "lena@example.org", PASSWORD)
        db.session.commit()
    page = blocked_page
    page.goto(publisher.url("/story"))
    thread = frame_of(page)
    with page.expect_popup() as opened:
        thread.get_by_role("button", name="Sign in to comment").click()
    popup = opened.value
    popup.get_by_label("Username").fill("lena")
    popup.get_by_label("Password").fill(PASSWORD)
    popup.get_by_role("button", name="Log in").click()
    popup.get_by_role("button", name="Continue as").click()
    expect(thread.get_by_text("Signed in as lena")).to_be_visible()
    wait_for_event(page, "forum:signed-in")
    assert events(page)[-1] == {"name": "forum:signed-in", "detail": {"user": None}}
    # The page can still sign the reader out of the frame.
    page.get_by_role("button", name="Log out").click()
    expect(thread.get_by_role("button", name="Sign in to comment")).to_be_visible()
    eventually(lambda: live_tokens(forum, "lena") == 0)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_accessibility_of_the_frame_with_the_hosts_login(forum, publisher, open_context, theme):
    axe_page = open_context(bypass_csp=True).new_page()
    axe_page.goto(
        forum.url(f"/embed/threads/{KEY}?origin={publisher.origin}&theme={theme}&login=host")
    )
    expect(axe_page.get_by_role("button", name="Sign in to comment")).to_be_visible()
    inject_axe(axe_page)
    failures, _ = axe_in_both_schemes(axe_page, f"frame with the host's login ({theme})")
    assert not failures, axe_report(failures)


def test_the_admin_switches_roles_and_badges_for_a_site(forum, publisher, open_context):
    page = open_context(viewport=PHONE).new_page()
    log_in(page, forum, "root")
    page.goto(forum.url("/moderation/embedding/"))
    site = page.get_by_role("listitem").filter(has_text=publisher.origin)
    expect(site).to_contain_text("role and badges claims ignored")
    site.get_by_role("button", name="Honour roles and badges").click()
    expect(page.get_by_text("may now make moderators and give badges")).to_be_visible()
    expect(site).to_contain_text("role and badges claims honoured")
    with forum.app.app_context():
        assert sites.site_for(publisher.origin).sso_roles is True
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(ARTIFACTS / f"embedding-admin-roles-{scheme}.png"), full_page=True)
    axe_page = open_context(bypass_csp=True, viewport=PHONE).new_page()
    log_in(axe_page, forum, "root")
    axe_page.goto(forum.url("/moderation/embedding/"))
    inject_axe(axe_page)
    failures, _ = axe_in_both_schemes(axe_page, "embedding admin with the roles switch")
    assert not failures, axe_report(failures)

    # A reader the site makes a moderator, with a badge; then the switch goes off.
    blocked = open_context().new_page()
    blocked.goto(publisher.url("/story?login=host"))
    blocked.evaluate(
        "t => forumEmbed.signIn(t)",
        publisher.token("ada", role="moderator", badges=["Subscriber"]),
    )
    expect(frame_of(blocked).get_by_text("Signed in as Ada from the newsroom")).to_be_visible()
    with forum.app.app_context():
        ada = db.session.scalar(select(User).where(User.username == "ada"))
        assert (ada.role, ada.badges) == (Role.MODERATOR, ["Subscriber"])
    site.get_by_role("button", name="Ignore roles and badges").click()
    expect(page.get_by_text("lost a role or badges it gave")).to_be_visible()
    with forum.app.app_context():
        ada = db.session.scalar(select(User).where(User.username == "ada"))
        assert (ada.role, ada.badges) == (Role.READER, [])
