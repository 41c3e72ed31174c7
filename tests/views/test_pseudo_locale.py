"""No visible string escapes translation.

Every marked string is pseudo-translated into a made-up catalog ("eo" carries
it: "Reply" becomes "⟦Ŕéþĺý⟧"), then every page and the embed are visited as a
visitor, a reader, a moderator and an admin.  Whatever ASCII letters are left in
the text people see (and in title, aria-label, placeholder, alt and button
values) were never marked: the test names them and the page they are on.

What is the readers' own (comments, names, titles) sits in dir="auto" blocks or
<bdi>, and a <time>'s text is Babel's; those are skipped, as are a few words that
are the same in every language (the product's name, UTC)."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from werkzeug.exceptions import NotFound

from forum.extensions import db
from forum.models import CommentStatus, Role, User, utcnow
from forum.services.discussion import threads
from forum.services.moderation import decisions, flags
from tests import catalogs
from tests.conftest import AuthActions

PSEUDO = "eo"
HOST = "https://publisher.example"
SKIPPED_TAGS = {"script", "style", "time", "code", "pre", "kbd", "textarea"}
CHECKED_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
# The same in every language: the product's name, the time zone, the data formats,
# the chat services an alerts webhook speaks to.
UNTRANSLATED = re.compile(
    r"\bforum\b|\bUTC\b|\bAtom\b|\bJSON\b|\bMarkdown\b|\bOpenID\b|\bSlack\b|\bDiscord\b"
    r"|https?://\S+|[\w.+-]+@[\w-]+\.\w+"
)
# The readers' names in this test (usernames are ASCII by rule).
NAMES = re.compile(r"@?\b(alice|bobby|mona|ada|ep-1|a-story)\b")


@pytest.fixture(scope="module")
def pseudo_translations(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pseudo")
    template = catalogs.extract(directory)
    return catalogs.pseudo_catalog(template, PSEUDO, directory)


@pytest.fixture
def site(app_with, pseudo_translations):
    app = app_with(
        FORUM_LOCALES=["en", PSEUDO],
        BABEL_TRANSLATION_DIRECTORIES=f"{catalogs.TRANSLATIONS};{pseudo_translations}",
        FORUM_EMBED_ORIGINS=HOST,
        FORUM_GUESTS="on",
    )
    with app.app_context():
        from forum.services.accounts import accounts

        people = {
            name: accounts.register(name, f"{name}@example.org", "correct horse battery", role)
            for name, role in (
                ("alice", Role.READER),
                ("bobby", Role.READER),
                ("mona", Role.MODERATOR),
                ("ada", Role.ADMIN),
            )
        }
        people["alice"].display_name = "Алиса"
        people["bobby"].display_name = "Борис"
        people["mona"].display_name = "Мона"
        people["ada"].display_name = "Ада"
        threads.save_article("a-story", "Ἡ ἱστορία", "Κείμενο **ἄρθρου**.")
        db.session.flush()
        thread = threads.thread_by_key("a-story")
        from forum.services.discussion import comments

        first = comments.post_comment(people["alice"], thread, "Первый комментарий.")
        comments.post_comment(people["bobby"], thread, "Ответ.", parent=first)
        comments.post_comment(people["bobby"], thread, "Теория.", theory_title="Сюжетный поворот")
        comments.post_comment(people["alice"], thread, "||Спойлер||", spoiler=True)
        held = comments.post_comment(people["bobby"], thread, "Ждёт модератора.")
        held.status = CommentStatus.PENDING
        # An approval, for History (which shows its text and author).
        approved = comments.post_comment(people["bobby"], thread, "Одобрен позже.")
        approved.status = CommentStatus.PENDING
        db.session.flush()
        decisions.act(people["mona"], approved, "approve")
        flags.flag(people["bobby"], first, "spam", note="Заметка")
        edited = comments.post_comment(people["alice"], thread, "Правка раз.")
        comments.edit_comment(people["alice"], edited, "Правка два.")
        old = comments.post_comment(people["alice"], thread, "Старый комментарий.")
        old.created_at = utcnow() - timedelta(days=3)
        db.session.commit()
        ids = {"first": first.id, "held": held.id, "edited": edited.id}
    return app, ids


def signed_in(app, username):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = PSEUDO  # the sign-in's own flash too
    AuthActions(client).login(username, "correct horse battery")
    return client


class VisibleText(HTMLParser):
    """The text a person sees on a page, and the attributes read aloud or shown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        skip = (
            tag in SKIPPED_TAGS
            or values.get("dir") == "auto"
            or tag == "bdi"
            or ("lang" in values and tag != "html")
        )
        if not self.skipping() and not skip:
            for name in CHECKED_ATTRIBUTES:
                if values.get(name):
                    self.found.append(f"[{name}] {values[name]}")
            if (
                tag == "input"
                and values.get("type") in ("submit", "button")
                and values.get("value")
            ):
                self.found.append(f"[value] {values['value']}")
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr", "col"):
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self.skipping() and data.strip():
            self.found.append(data.strip())


def escaped(page: str) -> list[str]:
    """The pieces of page text with English letters left in them."""
    parser = VisibleText()
    parser.feed(page)
    left = []
    for text in parser.found:
        rest = NAMES.sub("", UNTRANSLATED.sub("", re.sub(r"^\[[\w-]+\] ", "", text)))
        if re.search(r"[A-Za-z]{2,}", rest):
            left.append(text[:120])
    return left


def visits(site):
    app, ids = site
    first, held, edited = ids["first"], ids["held"], ids["edited"]
    embed = f"/embed/threads/ep-1?origin={HOST}&title=Серия&url={HOST}/ep-1&lang={PSEUDO}"
    return {
        None: [
            "/",
            "/articles/a-story",
            "/articles/a-story?sort=top&tab=theories",
            f"/articles/a-story/comments/{first}/replies",
            "/articles/a-story/comments",
            "/theories",
            "/users/alice",
            f"/comments/{first}",
            "/auth/login",
            "/auth/register",
            "/auth/reset",
            "/auth/reset/not-a-token",
            "/auth/verify/not-a-token",
            "/auth/email-link",
            "/auth/email-link/not-a-token",
            "/auth/choose-username",
            "/guests/confirm/not-a-token",
            "/unsubscribe/not-a-token",
            "/account/email/confirm/not-a-token",
            "/no-such-page",
            "/search",
            "/search?q=комментарий",
            "/search?q=комментарий&article=a-story",
            "/search?q=нет",
            embed,
            "/embed/auth",
        ],
        "alice": [
            "/articles/a-story",
            "/account/security",
            "/account/notifications",
            "/account/profile",
            "/account/data",
            "/notifications",
            f"/comments/{first}/edit",
            f"/comments/{first}/delete",
            f"/comments/{first}/flag",
            f"/comments/{first}/reply",
            "/auth/logout",
            "/theories",
        ],
        "mona": [
            "/articles/a-story",
            "/account/notifications",
            "/moderation/",
            "/moderation/queue/pending",
            "/moderation/queue/reported",
            "/moderation/queue/spam",
            "/moderation/queue/rejected",
            "/moderation/queue/pending?q=ждёт&author=nobody&article=a-story",
            "/moderation/queue/reported?q=комментарий",
            "/moderation/history",
            "/moderation/log",
            "/moderation/users/bobby",
            f"/comments/{held}",
            f"/moderation/comments/{edited}/history",
        ],
        "ada": [
            "/moderation/settings",
            "/moderation/embedding/",
            "/moderation/embedding/threads",
            "/moderation/embedding/threads/ep-1",
            "/admin/people/",
            "/admin/people/bobby",
            "/users/bobby",
        ],
    }


# GET endpoints that are not pages: data, files, scripts, redirects elsewhere.
NOT_PAGES = {
    "static",
    "languages.script_catalog",
    "avatars.show",
    "embed.script",
    "embed.auth_start",
    "embed.comments_for_reader",
    "embed.more_replies",
    "embed.one_comment",
    "own_data.download",
    "sign_in.start",
    "sign_in.callback",
    "pages.more_replies",
    "pages.updates",
    "feeds.thread_comments",
    "feeds.user_comments",
    "people.edit_profile",
}


def test_every_page_in_the_pseudo_locale_is_translated(site):
    app, _ids = site
    problems: dict[str, list[str]] = {}
    seen_endpoints = set()
    adapter = app.url_map.bind("forum.test")
    for who, paths in visits(site).items():
        client = signed_in(app, who) if who else app.test_client()
        # The embed's first view needs its origin's Referer; the frame keeps no cookie.
        for path in paths:
            headers = {"Accept-Language": PSEUDO, "Referer": f"{HOST}/ep-1"}
            response = client.get(path, headers=headers, follow_redirects=True)
            with contextlib.suppress(NotFound):  # the 404 page
                seen_endpoints.add(adapter.match(path.split("?")[0])[0])
            assert response.status_code < 500, (path, response.status_code)
            if "<html" in response.text:  # not a fragment
                assert f'<html lang="{PSEUDO}"' in response.text, path
            left = escaped(response.text)
            if left:
                problems[f"{who or 'visitor'} {path}"] = left
    report = "\n".join(f"{page}:\n    " + "\n    ".join(left) for page, left in problems.items())
    assert not problems, "untranslated text:\n" + report
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.rule.startswith("/api/")
    }
    assert pages - NOT_PAGES - seen_endpoints == set(), "pages this test never visits"


def test_the_scripts_strings_are_translated_too(site):
    app, _ids = site
    client = app.test_client()
    page = client.get("/articles/a-story", headers={"Accept-Language": PSEUDO}).text
    url = re.search(r'<script src="(/i18n/eo\.js\?v=\w+)"', page).group(1)
    script = client.get(url)
    assert script.status_code == 200
    assert "immutable" in script.headers["Cache-Control"]
    assert script.mimetype == "text/javascript"
    body = script.text
    assert body.startswith("window.forumCatalog = ")
    catalog = json.loads(body[len("window.forumCatalog = ") :].rstrip().rstrip(";"))
    assert catalog, "the scripts mark no strings"
    for msgid, text in catalog.items():
        forms = text.values() if isinstance(text, dict) else [text]
        for form in forms:
            assert form.startswith("⟦") and form.endswith("⟧"), (msgid, form)
    # English pages send no catalog at all.
    english = client.get("/articles/a-story", headers={"Accept-Language": "en"}).text
    assert "/i18n/" not in english
    assert client.get("/i18n/xx.js").status_code == 404


def test_error_codes_stay_while_messages_are_translated(site):
    app, _ids = site
    client = app.test_client()
    answer = client.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "x"},
        headers={"Accept-Language": PSEUDO},
    )
    assert answer.status_code == 401
    error = answer.json["error"]
    assert error["code"] == "unauthorized"
    assert "⟦" in error["message"]
    english = client.post("/api/v1/threads/a-story/comments", json={"body": "x"})
    assert english.json["error"]["code"] == "unauthorized"
    assert "⟦" not in english.json["error"]["message"]


def test_counts_come_with_labels_in_the_readers_language(site):
    app, _ids = site
    client = app.test_client()
    answer = client.get(f"/api/v1/counts?keys=a-story&lang={PSEUDO}").json
    assert answer["counts"]["a-story"] >= 1
    assert answer["labels"]["a-story"].startswith("⟦")
    assert str(answer["counts"]["a-story"]) in answer["labels"]["a-story"]


def test_emails_go_out_in_the_recipients_language(site):
    app, ids = site
    with app.app_context():
        alice = db.session.scalar(db.select(User).filter_by(username="alice"))
        alice.locale = PSEUDO
        bobby = db.session.scalar(db.select(User).filter_by(username="bobby"))
        bobby.locale = "en"
        db.session.commit()
    # Bobby (English) replies to Alice (pseudo): her notification is hers.
    bob = signed_in(app, "bobby")
    with app.app_context():
        alice = db.session.scalar(db.select(User).filter_by(username="alice"))
        alice.email_kinds = ["reply"]
        db.session.commit()
    token = bob.get("/api/v1/session").json.get("csrf_token")
    bob.post(
        "/api/v1/threads/a-story/comments",
        json={"body": "Ещё ответ.", "parent_id": ids["first"]},
        headers={"X-CSRFToken": token or "", "Accept-Language": "en"},
    )
    from forum.models import OutboxMessage

    with app.app_context():
        mail = db.session.scalars(
            db.select(OutboxMessage).order_by(OutboxMessage.id.desc())
        ).first()
        assert mail is not None
        assert "⟦" in mail.subject
        assert "⟦" in mail.body


def test_no_page_repeats_an_id(site):
    """The same crawl, for the W3C checker's most common complaint: an id twice on
    one page (several forms each with id="csrf_token" was one)."""
    app, _ids = site
    repeated = {}
    for who, paths in visits(site).items():
        client = signed_in(app, who) if who else app.test_client()
        for path in paths:
            page = client.get(path, headers={"Referer": f"{HOST}/ep-1"}, follow_redirects=True)
            # A <template>'s content is a fragment of its own (the reply form a
            # script clones and renumbers), outside the page's tree.
            text = re.sub(r"<template\b.*?</template>", "", page.get_data(as_text=True), flags=re.S)
            found = re.findall(r'\sid="([^"]+)"', text)
            twice = sorted({one for one in found if found.count(one) > 1})
            if twice:
                repeated[f"{who or 'visitor'} {path}"] = twice
    assert not repeated, repeated
