"""The hostile corpus (tests/data/xss_vectors.json) through every place reader text lands.

Each vector goes in by the real write paths (the API, the HTML forms, the
profile form, a publisher's embed, a Disqus import) and is read back from the
real pages, the API's JSON and the feeds.  For what was stored as HTML the test
asks that it is well formed and holds only what forum.markup allows: its tags
(COMMENT_TAGS), its attributes (the policy function bleach is given), absolute
links with our rel whose scheme is in PROTOCOLS, no on* attribute, and no value
that starts with a dangerous scheme once entities are decoded and whitespace and
control characters removed.  Text that is not HTML (titles, names, bios, notes)
must reach each page escaped, and every page as a whole must hold no live markup
a reader's text could have put there (see page_problems).

The corpus is posted in batches (one request per vector, checks after), and each
batch test reports every failing vector at once, by id.  The pure sanitizer check
is parametrized per vector.  tests/browser/test_browser_xss.py loads the same corpus in
Chromium.
"""

from __future__ import annotations

import html
import json
import os
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

import pytest
from markupsafe import escape
from sqlalchemy import select

from forum import markup
from forum.extensions import db
from forum.markup import ARTICLE_TAGS, COMMENT_TAGS, LINK_REL, PROTOCOLS, normalize
from forum.models import Comment, ImportRecord, Role, User
from forum.ops.imports import guests
from forum.ops.imports.disqus import message_to_markdown
from forum.ops.imports.thread_store import URL_MAX
from forum.services.accounts import accounts
from forum.services.accounts.people import BIO_MAX, NAME_MAX
from forum.services.discussion import comments, threads
from forum.services.discussion.comments import THEORY_TITLE
from forum.services.moderation import controls
from forum.services.moderation.decisions import REASON_MAX
from tests.conftest import PASSWORD, TEST_DATA, AuthActions, token_for

CORPUS_FILE = TEST_DATA / "xss_vectors.json"
CORPUS: list[dict] = json.loads(CORPUS_FILE.read_text(encoding="utf-8"))
IDS = [item["id"] for item in CORPUS]

ORIGIN = "https://publisher.example"  # a publisher allowed to embed threads
NEWS = "https://news.example"  # the site a Disqus export came from
# Readers post freely here: no new-account hold, no link limit, and the corpus
# holds inputs that normalize to the same text (a NUL dropped), which the
# duplicate rule would otherwise send to Spam.
SETTINGS = {"new_account_comments": 10**4, "max_links": 10**3, "duplicate_hours": 0}

# The kinds of input the corpus must cover (the hardening issue's list).
REQUIRED_CATEGORIES = {
    "script",
    "event-handler",
    "url-obfuscation",
    "markdown",
    "linkify",
    "html-in-markdown",
    "svg",
    "mathml",
    "mutation",
    "form",
    "meta-base",
    "object-embed",
    "css",
    "url-attribute",
    "attribute-breaker",
    "spoiler",
    "long-nested",
}


ATOM = "{http://www.w3.org/2005/Atom}"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# -- what counts as dangerous --------------------------------------------------------------

# What a lenient URL parser skips or folds: whitespace, C0/C1 controls, soft
# hyphens, zero-width and direction marks, BOM.
_INVISIBLE = re.compile(
    r"[\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"
)
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:", "data:", "file:", "feed:")
# Attributes a browser reads as a URL (on any element a page might hold).
URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "cite",
    "ping",
    "codebase",
    "dynsrc",
    "lowsrc",
    "longdesc",
    "manifest",
    "icon",
}
# Elements no page of ours has, so none may appear on one.
FOREIGN = {
    "applet",
    "bgsound",
    "embed",
    "frame",
    "frameset",
    "iframe",
    "isindex",
    "listing",
    "math",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "plaintext",
    "portal",
    "style",
    "svg",
    "xml",
    "xmp",
}


def unmasked(value: str) -> str:
    """An attribute value as a lenient reader could take it: entities decoded (a
    second time too, as a careless consumer might), compatibility forms folded
    (fullwidth letters), whitespace and controls removed, lower case."""
    for _ in range(2):
        value = html.unescape(value)
    value = unicodedata.normalize("NFKC", value)
    return _INVISIBLE.sub("", value).lower()


def is_dangerous(value: str | None) -> bool:
    return unmasked(value or "").startswith(DANGEROUS_SCHEMES)


class _Elements(HTMLParser):
    """Elements with their attributes (values entity-decoded), and anything that
    is not plain markup."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.problems: list[str] = []
        self.script: str | None = None  # the tag of the script element being read
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_comment(self, data):
        self.problems.append(f"comment <!--{data[:60]}-->")

    def handle_decl(self, decl):
        if decl.lower() != "doctype html":
            self.problems.append(f"declaration <!{decl[:60]}>")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction <?{data[:60]}>")

    def unknown_decl(self, data):
        self.problems.append(f"unknown declaration <![{data[:60]}]>")


def stored_problems(stored: str, tags: frozenset[str] = COMMENT_TAGS, rel=True) -> list[str]:
    """Why this stored HTML is not what forum.markup promises (empty if it is)."""
    parsed = _Elements(stored)
    problems = list(parsed.problems)
    for tag, attrs in parsed.elements:
        if tag not in tags:
            problems.append(f"<{tag}> is not on the allowlist")
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            problems.append(f"<{tag}> repeats an attribute: {names}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                problems.append(f"<{tag} {name}=...>: an event handler")
            if is_dangerous(value):
                problems.append(f"<{tag} {name}={value[:60]!r}>: a dangerous scheme")
            # The attribute allowlist is a function: a span's values are fixed.
            if not (rel and (tag, name) == ("a", "rel")) and not markup._allowed_attribute(
                tag, name, value
            ):
                problems.append(f"<{tag} {name}={value[:60]!r}> is not on the allowlist")
        href = dict(attrs).get("href")
        if tag == "a" and href is not None:
            scheme = urlsplit(unmasked(href)).scheme
            if scheme not in PROTOCOLS or (scheme != "mailto" and "//" not in href[:10]):
                problems.append(f"<a href={href[:60]!r}>: not an absolute {sorted(PROTOCOLS)} link")
            if rel and dict(attrs).get("rel") != LINK_REL:
                problems.append(f"<a href={href[:60]!r}> without rel={LINK_REL!r}")
    return problems


def page_problems(page: str) -> list[str]:
    """Live markup on a whole page that none of our templates makes: event
    handlers, dangerous URLs, scripts other than our files, foreign or active
    elements (iframe, object, svg, style, meta refresh, base href...), forms
    posting elsewhere, images from elsewhere."""
    parsed = _Elements(page)
    problems = list(parsed.problems)
    for tag, attrs in parsed.elements:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"<{tag} {name}=...>: an event handler")
            ours = (tag, name, value, values.get("rel")) == ("link", "href", "data:,", "icon")
            if name in URL_ATTRIBUTES and is_dangerous(value) and not ours:
                problems.append(f"<{tag} {name}={(value or '')[:60]!r}>: a dangerous URL")
            if name in ("style", "srcdoc", "formaction"):
                problems.append(f"<{tag} {name}=...>: not in our templates")
        if tag in FOREIGN:
            problems.append(f"<{tag}>: not in our templates")
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            problems.append(f"<script src={values.get('src')!r}>: not one of our files")
        if tag == "meta" and ("http-equiv" in values or "content" in values and "url" in values):
            problems.append(f"<meta {values}>: not in our templates")
        if tag == "base" and "href" in values:
            problems.append("<base href>: not in our templates")
        if tag == "form" and not (values.get("action") or "/").startswith("/"):
            problems.append(f"<form action={values.get('action')!r}>: posts elsewhere")
        if tag == "img" and not (values.get("src") or "").startswith("/"):
            problems.append(f"<img src={values.get('src')!r}>: not from this site")
    # Inline script text: html.parser hands it to handle_data, so look for it directly.
    for match in re.finditer(r"<script\b[^>]*>(.*?)</script", page, re.I | re.S):
        if match.group(1).strip():
            problems.append(f"inline script: {match.group(1)[:60]!r}")
    return problems


def xml_safe(text: str) -> str:
    """text without what XML 1.0 cannot hold at all (C0 controls but tab and
    newlines, lone surrogates, U+FFFE/U+FFFF): how feeds and exports carry it."""
    return _NOT_XML.sub("", text)


def escaped(text: str) -> str:
    """text as Jinja's autoescaping writes it."""
    return str(escape(text))


def browser_safe(text: str) -> str:
    """What a browser sends for text with lone surrogates in a form or a URL."""
    return re.sub(r"[\ud800-\udfff]", "\ufffd", text)


def fitting(text: str, low: int, high: int) -> str | None:
    """text if its stored (normalized) form has low..high characters, else None."""
    return text if low <= len(normalize(text)) <= high else None


def report(failures: dict[str, list[str]]) -> str:
    lines = [f"{len(failures)} vector(s) failed:"]
    for ident, problems in failures.items():
        lines.append(f"  {ident}: " + "; ".join(problems[:5]))
    return "\n".join(lines)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def site(app_with):
    def build(**settings):
        return app_with(
            FORUM_PAGE_SIZE=1000,
            FORUM_EMBED_ORIGINS=f"{ORIGIN} {NEWS}",
            FORUM_SETTINGS_DEFAULTS={**SETTINGS, **settings},
        )

    return build


def register(app, username: str, role: Role = Role.READER) -> None:
    with app.app_context():
        accounts.register(username, f"{username}@example.org", PASSWORD, role)
        db.session.commit()


def save_article(app, slug: str, moderation_mode: str | None = None) -> None:
    with app.app_context():
        threads.save_article(slug, "Hostile corpus", "Below: every vector of the corpus.")
        if moderation_mode:
            admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
            controls.update_thread(admin, threads.thread_by_key(slug), moderation=moderation_mode)
        db.session.commit()


def signed_in(app, username: str):
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def admin_pages(client, url: str) -> list[str]:
    """Every page of a moderators' list (a queue, the embedded threads), following
    its link to the next one."""
    pages, path = [], urlsplit(url).path
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.text)
        found = re.search(f'href="({re.escape(path)}\\?cursor=[^"]+)"', response.text)
        url = html.unescape(found.group(1)) if found else None
    return pages


# -- the corpus itself ---------------------------------------------------------------------


def test_the_corpus_is_large_sourced_and_covers_every_kind():
    assert len(CORPUS) >= 220
    assert len(set(IDS)) == len(IDS)
    assert len({item["vector"] for item in CORPUS}) == len(CORPUS)
    for item in CORPUS:
        assert set(item) == {"id", "vector", "source", "category"}, item["id"]
        assert item["vector"].strip() and item["source"].strip(), item["id"]
        assert item["id"].startswith(item["category"] + "-"), item["id"]
        # Every vector is a comment the forum accepts (at most 10,000 characters).
        assert 0 < len(normalize(item["vector"])) <= 10_000, item["id"]
    assert {item["category"] for item in CORPUS} >= REQUIRED_CATEGORIES
    sources = " ".join(item["source"] for item in CORPUS)
    for collection in ("OWASP", "html5lib", "DOMPurify", "PortSwigger", "CommonMark"):
        assert collection in sources


# -- the sanitizer alone, per vector -------------------------------------------------------


@pytest.mark.parametrize("item", CORPUS, ids=IDS)
def test_the_sanitizer_output_is_inert(item):
    source = normalize(item["vector"])
    assert stored_problems(markup.render_comment(source)) == []
    assert stored_problems(markup.render_article(source), ARTICLE_TAGS) == []


# -- comments through the API --------------------------------------------------------------


def test_every_vector_through_the_api(site):
    """Posted by a reader with a bearer token, each vector a comment (and its
    theory title where it fits one); read back from the response, the thread's
    JSON, the article page, the theories pages, the feed; then reported by
    another reader with the vector as the note, and read in the moderators'
    Reported queue."""
    app = site()
    for name, role in (("hostile", Role.READER), ("flagger", Role.READER), ("mona", Role.ADMIN)):
        register(app, name, role)
    save_article(app, "corpus-api")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(client, 'hostile')}"}

    failures: dict[str, list[str]] = {}
    posted = {}
    for item in CORPUS:
        title = fitting(item["vector"], *THEORY_TITLE)
        response = client.post(
            "/api/v1/threads/corpus-api/comments",
            json={"body": item["vector"], "theory_title": title},
            headers=headers,
        )
        if response.status_code != 201:
            failures[item["id"]] = [f"POST answered {response.status_code}: {response.text[:200]}"]
            continue
        assert response.mimetype == "application/json"
        comment = posted[item["id"]] = response.json["comment"]
        problems = stored_problems(comment["html"])
        if comment["body"] != normalize(item["vector"]):
            problems.append(f"body came back changed: {comment['body'][:80]!r}")
        expected_title = normalize(title) if title is not None else None
        if comment["theory_title"] != expected_title:
            problems.append(f"theory title came back as {comment['theory_title']!r}")
        if problems:
            failures[item["id"]] = problems
        if title is None:  # too short or too long for a title: refused, not a 500
            refused = client.post(
                "/api/v1/threads/corpus-api/comments",
                json={"body": "A theory", "theory_title": item["vector"]},
                headers=headers,
            )
            if refused.status_code != 422 or "theory_title" not in refused.text:
                failures.setdefault(item["id"], []).append(
                    f"an unfitting theory title answered {refused.status_code}"
                )
    assert not failures, report(failures)
    listed = client.get("/api/v1/threads/corpus-api/comments?limit=1000").json["comments"]
    by_id = {c["id"]: c for c in listed}
    page = client.get("/articles/corpus-api")
    assert page.status_code == 200
    assert page_problems(page.text) == []
    for item in CORPUS:
        comment = posted[item["id"]]
        problems = []
        if by_id.get(comment["id"], {}).get("html") != comment["html"]:
            problems.append("the thread's JSON shows other HTML")
        if comment["html"] not in page.text:
            problems.append("the article page does not show the stored HTML as it is")
        if comment["theory_title"] and escaped(comment["theory_title"]) not in page.text:
            problems.append("the article page does not show the theory title escaped")
        if problems:
            failures[item["id"]] = problems
    assert not failures, report(failures)

    # The theory title's other pages, and the reader's profile in JSON.
    for path in ("/theories", "/users/hostile", "/articles/corpus-api?tab=theories"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert page_problems(response.text) == [], path
    profile = client.get("/api/v1/users/hostile").json
    titles = {normalize(t) for item in CORPUS if (t := fitting(item["vector"], *THEORY_TITLE))}
    assert {t["theory_title"] for t in profile["theories"]} <= titles
    assert all(stored_problems(t["html"]) == [] for t in profile["theories"])

    # The Atom feed: well-formed XML whose entries' HTML is still clean.
    feed = client.get("/articles/corpus-api/comments.atom")
    assert feed.status_code == 200
    entries = ElementTree.fromstring(feed.data).findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        content = entry.findtext(f"{ATOM}content") or ""
        assert stored_problems(content, rel=False) == [], content[:200]

    # Reported by another reader with the vector as the note.
    flagger = {"Authorization": f"Bearer {token_for(client, 'flagger')}"}
    for item in CORPUS:
        note = normalize(item["vector"])[:REASON_MAX]
        response = client.post(
            f"/api/v1/comments/{posted[item['id']]['id']}/flags",
            json={"reason": "other", "note": note},
            headers=flagger,
        )
        if response.status_code != 201 or response.json["flag"]["note"] != normalize(note):
            failures[item["id"]] = [f"flag answered {response.status_code}: {response.text[:200]}"]
    assert not failures, report(failures)
    reported = "".join(admin_pages(signed_in(app, "mona"), "/moderation/queue/reported"))
    assert page_problems(reported) == []
    for item in CORPUS:
        note = normalize(normalize(item["vector"])[:REASON_MAX])
        if escaped(note) not in reported:
            failures[item["id"]] = ["the Reported queue does not show the note escaped"]
    assert not failures, report(failures)


# -- comments through the HTML form --------------------------------------------------------


def test_every_vector_through_the_html_form(site):
    """Posted through the article page's form (CSRF is off in these tests; see
    test_csrf.py) into a pre-moderated thread whose suspect words match much of
    the corpus: read back from the author's view of the page, each comment's edit
    form (the body in a textarea), and the moderators' Pending queue, where the
    matched words are highlighted inside the stored HTML."""
    app = site(suspect_words=["script", "onerror", "javascript", "alert", "svg", "img", "lt"])
    register(app, "hostile")
    register(app, "mona", Role.ADMIN)
    save_article(app, "corpus-form", moderation_mode="pre")
    client = signed_in(app, "hostile")

    failures: dict[str, list[str]] = {}
    sent = {}
    for item in CORPUS:
        body = browser_safe(item["vector"])
        title = fitting(body, *THEORY_TITLE)
        response = client.post(
            "/articles/corpus-form/comments", data={"body": body, "theory_title": title or ""}
        )
        if response.status_code != 302:
            failures[item["id"]] = [f"the form answered {response.status_code}"]
        sent[item["id"]] = (body, title)
    assert not failures, report(failures)

    with app.app_context():
        stored = db.session.scalars(select(Comment).order_by(Comment.id)).all()
        stored = [(c.id, c.body, c.html, c.theory_title, c.status.value) for c in stored]
    assert len(stored) == len(CORPUS)
    page = client.get("/articles/corpus-form")
    assert page.status_code == 200
    assert page_problems(page.text) == []
    for item, (comment_id, body, stored_html, title, status) in zip(CORPUS, stored, strict=True):
        sent_body, sent_title = sent[item["id"]]
        problems = stored_problems(stored_html)
        if status != "pending":
            problems.append(f"status {status}, not pending")
        if body != normalize(sent_body):
            problems.append(f"body stored changed: {body[:80]!r}")
        if title != (normalize(sent_title) if sent_title else None):
            problems.append(f"theory title stored as {title!r}")
        if stored_html not in page.text:
            problems.append("the author's page does not show the stored HTML as it is")
        edit = client.get(f"/comments/{comment_id}/edit")
        if edit.status_code != 200:
            problems.append(f"the edit form answered {edit.status_code}")
        elif f">\r\n{escaped(body)}</textarea>" not in edit.text:
            problems.append("the edit form does not show the body escaped in its textarea")
        elif edit_problems := page_problems(edit.text):
            problems.extend(edit_problems)
        if problems:
            failures[item["id"]] = problems
    assert not failures, report(failures)

    pending = admin_pages(signed_in(app, "mona"), "/moderation/queue/pending")
    assert page_problems("".join(pending)) == []
    assert sum(p.count('class="mod-item') for p in pending) >= len(CORPUS)


# -- profiles: display name and bio --------------------------------------------------------


def test_display_names_and_bios(site):
    """Each vector as the display name and bio through the profile form: refused
    with 422 where too long (the form shown again, escaped), else saved; the
    profile page shows both escaped.  The API returns them as text, and the
    reader's Atom feed stays well-formed with the name in its title."""
    app = site()
    register(app, "hostile")
    client = signed_in(app, "hostile")
    failures: dict[str, list[str]] = {}
    for item in CORPUS:
        vector = browser_safe(item["vector"])
        name = normalize(vector)[:NAME_MAX] or "x"
        bio = normalize(vector)[:BIO_MAX]
        problems = []
        if (name, bio) != (vector, vector):  # the whole vector first: refused if too long
            response = client.post("/account/profile", data={"display_name": vector, "bio": vector})
            if response.status_code == 302:
                name, bio = normalize(vector), normalize(vector)  # it fitted after all
            elif response.status_code != 422:
                problems.append(f"the too-long profile answered {response.status_code}")
            else:
                problems.extend(page_problems(response.text))
        response = client.post("/account/profile", data={"display_name": name, "bio": bio})
        if response.status_code != 302:
            problems.append(f"the profile form answered {response.status_code}")
        else:
            name, bio = normalize(name), normalize(bio)
            profile = client.get("/users/hostile").text
            problems.extend(page_problems(profile))
            if f'<h1 dir="auto">{escaped(name)}</h1>' not in profile:
                problems.append("the profile does not show the display name escaped")
            if bio and f'<p class="bio" dir="auto">{escaped(bio)}</p>' not in profile:
                problems.append("the profile does not show the bio escaped")
        if problems:
            failures[item["id"]] = problems
    assert not failures, report(failures)
    # The last of them, as the API and the reader's Atom feed give them.
    data = client.get("/api/v1/users/hostile").json
    assert (data["user"]["display_name"], data["bio"]) == (name, bio)
    feed = ElementTree.fromstring(client.get("/users/hostile/comments.atom").data)
    assert feed.findtext(f"{ATOM}title") == f"Comments by {xml_safe(name)}"


def test_every_vector_as_a_guest_name(app_with):
    """With guests on, each vector as the name a guest posts under (and the address
    they leave): refused with 422 where it is no name at all or too long, else
    stored as text and shown escaped on the article page, in the thread's JSON
    and in the moderators' Pending queue (the guest comments wait there)."""
    app = app_with(
        FORUM_GUESTS="on",
        FORUM_PAGE_SIZE=1000,
        FORUM_SETTINGS_DEFAULTS={**SETTINGS, "guest_moderation": "pre"},
    )
    register(app, "mona", Role.ADMIN)
    save_article(app, "corpus-guests")
    failures: dict[str, list[str]] = {}
    shown = {}
    for item in CORPUS:
        vector = browser_safe(item["vector"])
        client = app.test_client()
        response = client.post(
            "/api/v1/threads/corpus-guests/comments",
            json={"body": f"Guest {item['id']}", "guest_name": vector, "guest_email": vector},
        )
        if response.status_code == 422:
            fields = response.json["error"]["fields"]
            if not set(fields) <= {"guest_name", "guest_email"}:
                failures[item["id"]] = [f"refused for {sorted(fields)}"]
            # The name alone, with no address, once the address is the only fault.
            if "guest_name" in fields:
                continue
            response = client.post(
                "/api/v1/threads/corpus-guests/comments",
                json={"body": f"Guest {item['id']}", "guest_name": vector},
            )
        if response.status_code != 201:
            failures[item["id"]] = [f"POST answered {response.status_code}: {response.text[:200]}"]
            continue
        author = response.json["comment"]["author"]
        if author["display_name"] != " ".join(normalize(vector).split()) or not author["guest"]:
            failures[item["id"]] = [f"the name came back as {author['display_name']!r}"]
        shown[item["id"]] = author["display_name"]
    assert not failures, report(failures)
    assert len(shown) > len(CORPUS) // 2, "most vectors make a name"
    pending = "".join(admin_pages(signed_in(app, "mona"), "/moderation/queue/pending"))
    assert page_problems(pending) == []
    for item_id, name in shown.items():
        if escaped(name) not in pending:
            failures[item_id] = ["the Pending queue does not show the guest's name escaped"]
    assert not failures, report(failures)
    # Approved, on the article page and in the thread's JSON for every reader.
    moderator = signed_in(app, "mona")
    while items := moderator.get("/api/v1/moderation/queue/pending?limit=50").json["items"]:
        for item in items:
            decided = moderator.post(
                f"/api/v1/moderation/comments/{item['id']}", json={"action": "approve"}
            )
            assert decided.status_code == 200, decided.json
    page = app.test_client().get("/articles/corpus-guests").text
    assert page_problems(page) == []
    listed = app.test_client().get("/api/v1/threads/corpus-guests/comments?limit=1000").json
    names = {c["author"]["display_name"] for c in listed["comments"]}
    for item_id, name in shown.items():
        if (
            f'<span class="author" dir="auto">{escaped(name)}</span>' not in page
            or name not in names
        ):
            failures[item_id] = ["the article page or the JSON lost the guest's name"]
    assert not failures, report(failures)


# -- usernames -----------------------------------------------------------------------------

# Logging in costs a password hash even for an unknown name: the login form's
# echo of the username is tried with these kinds only.
LOGIN_CATEGORIES = {"attribute-breaker", "script", "polyglot"}


def test_usernames_are_refused_not_failed(site):
    """A username is 3 to 30 letters, digits, _ or -: every vector is refused
    with 422 by the API and the registration form (which shows it again,
    escaped) and looked up as nobody (404); some also fail to log in (401)."""
    app = site()
    client = app.test_client()
    failures: dict[str, list[str]] = {}
    for index, item in enumerate(CORPUS):
        vector = browser_safe(item["vector"])
        account = {"username": vector, "email": f"u{index}@example.org", "password": PASSWORD}
        answers = {
            "API registration": (client.post("/api/v1/users", json=account), 422),
            "registration form": (client.post("/auth/register", data=account), 422),
            "profile page": (client.get("/users/" + quote(vector, safe="")), 404),
            "profile JSON": (client.get("/api/v1/users/" + quote(vector, safe="")), 404),
        }
        if item["category"] in LOGIN_CATEGORIES:
            answers["login form"] = (client.post("/auth/login", data=account), 401)
        problems = [
            f"{what} answered {response.status_code}, not {expected}"
            for what, (response, expected) in answers.items()
            if response.status_code != expected
        ]
        if "username" not in answers["API registration"][0].json["error"].get("fields", {}):
            problems.append("the API did not name the username as the problem")
        for what in ("registration form", "login form"):
            if what in answers:
                problems.extend(page_problems(answers[what][0].text))
        if problems:
            failures[item["id"]] = problems
    assert not failures, report(failures)


# -- threads embedded on publishers' pages -------------------------------------------------

# Page addresses a publisher's page might claim: only an http(s) one on the
# embedding origin itself may be kept.
HOSTILE_ADDRESSES = [
    "javascript:top.__xss()//https://publisher.example/",
    "JaVaScRiPt://publisher.example/%0Atop.__xss()",
    "java\tscript://publisher.example/%0Atop.__xss()",
    " javascript:top.__xss()",
    "\x01javascript:top.__xss()",
    "vbscript://publisher.example/",
    "data:text/html,<script>top.__xss()</script>",
    "data://publisher.example/,<script>top.__xss()</script>",
    "//publisher.example/x",
    "https:\\\\publisher.example\\x",
    "https://publisher.example@evil.example/",
    "https://publisher.example.evil.example/",
    "https://evil.example/?u=https://publisher.example/",
]
POSTGRES = os.environ.get("FORUM_TEST_DATABASE_URL", "").startswith("postgresql")


def embed(client, key: str, title: str, url: str | None, origin: str = ORIGIN):
    query = {"origin": origin, "title": browser_safe(title)}
    if url is not None:
        query["url"] = browser_safe(url)
    # From the publisher's page, as a browser sends it (a new thread needs that).
    return client.get(f"/embed/threads/{key}", query_string=query, headers={"Referer": origin})


def comments_in(app, keys: list[str]) -> dict[str, int]:
    """A comment posted in each thread (by the first reader): key -> its id."""
    with app.app_context():
        author = db.session.scalar(select(User).order_by(User.id))
        made = {
            key: comments.add_comment(threads.thread_by_key(key), author, None, "Hi", "approved")
            for key in keys
        }
        db.session.commit()
        return {key: comment.id for key, comment in made.items()}


def test_embedded_thread_titles_and_addresses(site):
    """Each vector as the title a publisher's page gives its thread on first view
    (GET /embed/threads/<key>?origin=...&title=...&url=<origin>/<vector>): the
    stored title is the plain normalized text, the frame's page shows it escaped,
    the API returns it as text; the address is kept only on the publisher's
    origin, and a comment's permalink redirects to it.  Hostile addresses are
    dropped."""
    app = site()
    register(app, "hostile")
    client = app.test_client()
    failures: dict[str, list[str]] = {}
    cases = [(item["id"], item["vector"], f"{ORIGIN}/{item['vector']}") for item in CORPUS]
    cases += [(f"address-{i}", "A page", url) for i, url in enumerate(HOSTILE_ADDRESSES, 1)]
    kept: dict[str, str | None] = {}
    for index, (ident, title, url) in enumerate(cases):
        key = f"xss-{index}"
        title, url = browser_safe(title), browser_safe(url)
        page = embed(client, key, title, url)
        if page.status_code != 200:
            failures[ident] = [f"the embed page answered {page.status_code}"]
            continue
        expected = normalize(title)[:300] or key
        problems = page_problems(page.text)
        if f"<title>Discussion: {escaped(expected)}</title>" not in page.text:
            problems.append("the frame's page does not show the title escaped")
        thread = client.get(f"/api/v1/threads/{key}").json
        if thread["title"] != expected:
            problems.append(f"the thread's title is {thread['title'][:80]!r}")
        kept[ident] = thread["url"]
        if kept[ident] is not None and (ident.startswith("address-") or kept[ident] != url):
            problems.append(f"the address {kept[ident][:80]!r} was kept")
        if problems:
            failures[ident] = problems
    assert not failures, report(failures)

    # A comment in each thread that kept its address: the permalink leads there.
    keys = {ident: f"xss-{index}" for index, (ident, _, _) in enumerate(cases) if kept[ident]}
    made = comments_in(app, list(keys.values()))
    for ident, key in keys.items():
        permalink = client.get(f"/comments/{made[key]}")
        if permalink.status_code != 302 or not permalink.location.startswith(f"{ORIGIN}/"):
            failures[ident] = [f"the permalink answered {permalink.status_code}"]
    assert not failures, report(failures)


def test_an_embedded_page_address_holding_a_nul_is_not_a_500(site):
    app = site()
    client = app.test_client()
    assert embed(client, "nul", "A page", f"{ORIGIN}/a\x00b").status_code == 200
    with app.app_context():  # not stored: it could not be redirected to
        assert threads.thread_by_key("nul").url is None


@pytest.mark.parametrize("newline", ["\n", "\r"], ids=["LF", "CR"])
def test_a_permalink_to_a_page_address_with_a_newline_is_not_a_500(site, newline):
    app = site()
    register(app, "hostile")
    client = app.test_client()
    assert embed(client, "nl", "A page", f"{ORIGIN}/a{newline}b").status_code == 200
    assert client.get(f"/comments/{comments_in(app, ['nl'])['nl']}").status_code == 302


# -- a Disqus import -----------------------------------------------------------------------

DISQUS_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">\n'
)


def disqus_thread(dsq_id: int, identifier: str, link: str, title: str) -> str:
    return (
        f'<thread dsq:id="{dsq_id}"><id>{identifier}</id><link>{xml_escape(link)}</link>'
        f"<title>{xml_escape(title)}</title><createdAt>2013-01-01T09:00:00Z</createdAt>"
        "<isClosed>false</isClosed><isDeleted>false</isDeleted></thread>\n"
    )


def disqus_post(dsq_id: int, thread: int, message: str, name: str) -> str:
    return (
        f'<post dsq:id="{dsq_id}"><message>{xml_escape(message)}</message>'
        "<createdAt>2013-01-02T12:00:00Z</createdAt><isDeleted>false</isDeleted>"
        f"<isSpam>false</isSpam><author><name>{xml_escape(name)}</name></author>"
        f'<thread dsq:id="{thread}"/></post>\n'
    )


def page_of(index: int, text: str) -> str:
    """A thread's page address with the vector in its path (without whitespace,
    and cut to the longest address kept: the importer drops others)."""
    return (f"{NEWS}/t/{index}/" + re.sub(r"\s", "", text))[:URL_MAX]


def test_a_disqus_import(site, tmp_path):
    """A Disqus export (through the real CLI) carrying each vector twice as a
    message, all in one thread: as HTML (what the export holds) and as text (what
    a Disqus reader who typed it left: the HTML escaped), both by an author named
    after the vector; and as a thread's title and page address, one thread each.
    The importer reads a message's HTML for its text and a few structures and
    writes Markdown, which forum.markup renders like any comment; HTML that holds
    no text at all is skipped as empty.  (XML cannot carry C0 controls or lone
    surrogates at all: those are left out of the file.)"""
    app = site()
    register(app, "ada", Role.ADMIN)
    texts = [xml_safe(item["vector"]) for item in CORPUS]
    parts = [DISQUS_HEAD, disqus_thread(1, "xss-all", f"{NEWS}/all", "All of them")]
    for index, text in enumerate(texts):
        parts.append(disqus_thread(100 + index, f"xss-title-{index}", page_of(index, text), text))
        parts.append(disqus_post(1000 + index, 1, text, text))
        parts.append(disqus_post(3000 + index, 1, f"<p>{html.escape(text)}</p>", text))
        parts.append(disqus_post(5000 + index, 100 + index, "<p>Hello</p>", "Reader"))
    path = tmp_path / "disqus.xml"
    path.write_text("".join(parts) + "</disqus>\n", encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["import", "disqus", str(path)])
    assert result.exit_code == 0, result.output

    failures: dict[str, list[str]] = {}
    imported: dict[str, list[tuple[str, str]]] = {}  # id -> [(html, author's name)]
    with app.app_context():
        local = dict(
            db.session.execute(
                select(ImportRecord.external_id, ImportRecord.local_id).where(
                    ImportRecord.kind == "comment"
                )
            ).all()
        )
        for index, (item, text) in enumerate(zip(CORPUS, texts, strict=True)):
            problems = []
            for external, message in ((1000 + index, text), (3000 + index, "(escaped)")):
                if str(external) not in local:
                    # Skipped only as empty: nothing readable was left of it.
                    if message == "(escaped)" or normalize(message_to_markdown(message)):
                        problems.append(f"message {external} was not imported")
                    continue
                comment = db.session.get(Comment, local[str(external)])
                imported.setdefault(item["id"], []).append(
                    (comment.html, comment.author.display_name)
                )
                problems.extend(stored_problems(comment.html))
                if comment.author.display_name != guests.display_name(text):
                    problems.append(f"the author is {comment.author.display_name!r}")
            thread = threads.thread_by_key(f"xss-title-{index}")
            if thread.title != normalize(text)[:300]:
                problems.append(f"the thread's title is {thread.title[:80]!r}")
            if thread.url != page_of(index, text):
                problems.append(f"the thread's address is {str(thread.url)[:80]!r}")
            if problems:
                failures[item["id"]] = problems
    assert not failures, report(failures)

    client = app.test_client()
    page = client.get("/embed/threads/xss-all", query_string={"origin": NEWS})
    assert page.status_code == 200
    assert page_problems(page.text) == []
    for item in CORPUS:
        for stored_html, name in imported[item["id"]]:
            if stored_html not in page.text:
                failures[item["id"]] = ["the thread's page does not show the stored HTML"]
            # Imported authors are guests: their name is plain text, marked "guest".
            if f'<span class="author" dir="auto">{escaped(name)}</span>' not in page.text:
                failures[item["id"]] = ["the thread's page does not show the author escaped"]
    assert not failures, report(failures)

    # Every thread's title, escaped, in the admins' list of embedded threads.
    listed = "".join(admin_pages(signed_in(app, "ada"), "/moderation/embedding/threads"))
    assert page_problems(listed) == []
    for index, item in enumerate(CORPUS):
        link = f'<a href="/moderation/embedding/threads/xss-title-{index}">'
        if link + escaped(normalize(texts[index])[:300]) + "</a>" not in listed:
            failures[item["id"]] = ["the admins' list does not show the title escaped"]
    assert not failures, report(failures)
