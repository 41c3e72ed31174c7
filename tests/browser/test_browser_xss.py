"""The hostile corpus (tests/data/xss_vectors.json) in Chromium: nothing runs.

The server's seed posts every vector through the real services: each by its own
reader whose display name and bio are that vector (cut to fit), as a comment in
an article and in an embedded thread whose title is a vector, with the vector as
its theory title where it fits one, every seventh behind a spoiler cover; and
one embedded thread per vector titled with it.  The browser then loads the pages
where that text lands: the article (all of it on one page: FORUM_PAGE_SIZE), its
theories tab, the site's theories, the embedded thread (whose script swaps the
comments in by innerHTML), the profiles of one reader of each kind of vector
(tests/views/test_xss_corpus.py reads every profile), and the admins' list of
embedded threads, which shows every title.

How execution is seen: an init script, run in every frame before the page's own
scripts, defines window.__xss as an accessor (calling it, `top.__xss()`, or
assigning it, `window.__xss = 1`, both count: the corpus uses both) and replaces
alert, confirm, prompt and print with counters; page.on("dialog") catches any
dialog a frame without the script might still open.  On each page every spoiler
button is clicked, every <details> opened, the usual event types are dispatched
on every element of the comments (and the names, titles and bios), and on the
article the pointer is moved over every link in a comment; then the count must
be 0, and an audit of the live DOM must find no event-handler attribute, no URL
whose scheme the browser's own URL parser reads as other than http(s)/mailto,
no script that is not ours, no foreign or active element, and nothing in a
comment outside forum.markup's allowlist.

The pages are loaded with bypass_csp=True: the site's Content-Security-Policy
would block inline script anyway, and the point here is that the sanitizer and
the templates need no such help.  A last test loads the two largest pages with
the policy enforced and prints any violation it reports (allowed, but noted:
run with -rP to see them).
"""

from __future__ import annotations

import json

import pytest
from browser_support import PASSWORD, Site, make_app, serve
from playwright.sync_api import Page

from forum.extensions import db
from forum.markup import COMMENT_TAGS, normalize
from forum.models import Role
from forum.services.accounts import accounts, people
from forum.services.accounts.people import BIO_MAX, NAME_MAX
from forum.services.discussion import comments, threads
from forum.services.discussion.comments import THEORY_TITLE
from forum.services.notify import notifications
from tests.conftest import TEST_DATA

CORPUS = json.loads((TEST_DATA / "xss_vectors.json").read_text("utf-8"))
ORIGIN = "https://publisher.example"
ARTICLE = "hostile-corpus"
EMBEDDED = "embedded-corpus"
ADMIN = "ada"
READER = "lena"
# The embedded thread's own title: one that tries to close <title>.
EMBEDDED_TITLE = next(i["vector"] for i in CORPUS if i["vector"].startswith("</title>"))
# A profile holds one vector: the first reader of each kind is looked at.
FIRST_OF_EACH = {item["category"]: index for index, item in reversed(list(enumerate(CORPUS)))}
SAMPLE = sorted(FIRST_OF_EACH.values())


WATCH = """(() => {
  const hits = [];
  const count = (how) => function () {
    hits.push(how + "(" + Array.from(arguments).map(String).join(", ").slice(0, 80) + ")");
  };
  const call = count("__xss");
  Object.defineProperty(window, "__xss", {
    get() { return call; },
    set(value) { hits.push("__xss = " + String(value).slice(0, 80)); },
  });
  for (const name of ["alert", "confirm", "prompt", "print"]) window[name] = count(name);
  Object.defineProperty(window, "__xssHits", { value: () => hits.slice() });
  const violations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    violations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline")
      + " (" + (event.sample || "").slice(0, 60) + ")");
  });
  Object.defineProperty(window, "__cspViolations", { value: () => violations.slice() });
})();"""

# Reveal and poke: spoilers open, covers open, and the usual event types fired at
# every element that holds reader text.
REVEAL = """() => {
  const buttons = Array.from(document.querySelectorAll("button.spoiler-toggle"));
  for (const button of buttons) {
    if (button.getAttribute("aria-expanded") !== "true") button.click();
  }
  const details = Array.from(document.querySelectorAll("details"));
  for (const box of details) box.open = true;
  const types = ["mouseover", "mouseenter", "mousemove", "mousedown", "mouseup", "pointerover",
    "pointerenter", "pointerdown", "focus", "focusin", "blur", "keydown", "keyup", "input",
    "change", "toggle", "load", "error", "animationstart", "animationend", "transitionend",
    "scroll", "wheel", "dblclick", "contextmenu", "copy", "paste", "dragstart", "drop"];
  const holders = document.querySelectorAll(
    ".comment-body, .comment-body *, .theory-title, .author, .bio, h1, h2, h3, title");
  for (const element of holders) {
    for (const type of types) element.dispatchEvent(new Event(type, { bubbles: true }));
  }
  return {
    closed: buttons.filter((b) => b.getAttribute("aria-expanded") !== "true").length,
    hidden: document.querySelectorAll(".comment-body .spoiler-text[hidden]").length,
    shut: details.filter((d) => !d.open).length,
  };
}"""

COUNT_LINKS = """() => document.querySelectorAll(".comment-body a[href]").length"""
# The link's middle, once it is scrolled into view (as Playwright's hover would).
POINT_AT_LINK = """(index) => {
  const link = document.querySelectorAll(".comment-body a[href]")[index];
  link.scrollIntoView({ block: "center", inline: "center" });
  const box = link.getClientRects()[0] || link.getBoundingClientRect();
  return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
}"""

# The live DOM, audited with the browser's own parsers.
AUDIT = """(allowed) => {
  const problems = [];
  const urlAttributes = new Set(["href", "src", "srcset", "action", "formaction", "xlink:href",
    "data", "poster", "background", "cite", "ping", "codebase", "dynsrc", "lowsrc", "longdesc"]);
  const foreign = new Set(["iframe", "frame", "frameset", "object", "embed", "applet", "svg",
    "math", "style", "isindex", "xmp", "plaintext", "noembed", "noframes", "listing", "bgsound",
    "portal", "noscript"]);
  const html = "http://www.w3.org/1999/xhtml";
  const describe = (el) => "<" + el.localName + (el.id ? "#" + el.id : "") + ">";
  for (const el of document.querySelectorAll("*")) {
    for (const attribute of el.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on")) problems.push(describe(el) + " has " + name);
      if (urlAttributes.has(name)) {
        const icon = el.localName === "link" && el.rel === "icon" && attribute.value === "data:,";
        for (const part of name === "srcset" ? attribute.value.split(",") : [attribute.value]) {
          let scheme;
          try { scheme = new URL(part.trim().split(/\\s+/)[0], document.baseURI).protocol; }
          catch (error) { scheme = "unparsable:"; }
          if (!["http:", "https:", "mailto:"].includes(scheme) && !icon) {
            problems.push(describe(el) + " " + name + " is " + scheme + " " + part.slice(0, 60));
          }
        }
      }
    }
    if (el.namespaceURI !== html) problems.push(describe(el) + " in " + el.namespaceURI);
    if (foreign.has(el.localName)) problems.push(describe(el) + " is not in our templates");
    if (el.localName === "script") {
      const src = el.src ? new URL(el.src) : null;
      if (!src || src.origin !== location.origin || !src.pathname.startsWith("/static/")) {
        problems.push("script " + (el.src || el.textContent.slice(0, 60)));
      }
    }
    if (el.localName === "meta" && el.hasAttribute("http-equiv")) problems.push("meta http-equiv");
    if (el.localName === "base" && el.hasAttribute("href")) problems.push("base href");
  }
  for (const el of document.querySelectorAll(".comment-body *")) {
    const ours = (el.localName === "button" && el.classList.contains("spoiler-toggle"))
      || el.localName === "mark";
    if (!allowed.includes(el.localName) && !ours) {
      problems.push(describe(el) + " in a comment is not on the allowlist");
    }
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_app(
        tmp_path_factory.mktemp("browser-xss"),
        FORUM_PAGE_SIZE=1000,
        FORUM_EMBED_ORIGINS=ORIGIN,
        FORUM_EMBED_POLL_SECONDS=0,
        # Each reader posts the same text twice (article, embedded thread): not spam here.
        FORUM_SETTINGS_DEFAULTS={
            "new_account_comments": 10_000,
            "max_links": 1_000,
            "duplicate_hours": 0,
        },
    )
    with app.app_context():
        token = _seed()
    with serve(app) as base_url:
        yield SeededSite(base_url, token)


class SeededSite(Site):
    def __init__(self, base_url: str, token: str):
        super().__init__(base_url)
        self.token = token  # a signed-in reader's, for the embedded thread's script


def _seed() -> str:
    """Everything above; returns a bearer token of a reader who wrote nothing."""
    accounts.register(ADMIN, "ada@example.org", PASSWORD, Role.ADMIN)
    token, _ = accounts.issue_token(accounts.register(READER, "lena@example.org", PASSWORD), 24)
    threads.save_article(ARTICLE, "Hostile corpus", "Every vector of the corpus, below.")
    embedded, _ = threads.thread_for_embed(EMBEDDED, ORIGIN, EMBEDDED_TITLE, f"{ORIGIN}/story")
    article = threads.thread_by_key(ARTICLE)
    low, high = THEORY_TITLE
    for index, item in enumerate(CORPUS):
        text = normalize(item["vector"])
        reader = accounts.register(f"reader{index}", f"r{index}@example.org", PASSWORD)
        people.update_profile(reader, text[:NAME_MAX] or "x", text[:BIO_MAX])
        title = item["vector"] if low <= len(text) <= high else None
        comments.post_comment(
            reader, article, item["vector"], theory_title=title, spoiler=index % 7 == 0
        )
        comments.post_comment(reader, embedded, item["vector"], theory_title=title)
        # Posting follows the thread; a follower hears of every later comment,
        # which here would be 275 squared notifications for nothing.
        notifications.unfollow(reader, article)
        notifications.unfollow(reader, embedded)
        threads.thread_for_embed(f"titled-{index}", ORIGIN, item["vector"], f"{ORIGIN}/{index}")
    db.session.commit()
    return token


class Watched:
    """A page with the init script, and every dialog, error and console message."""

    def __init__(self, page: Page):
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(WATCH)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on(
            "console",
            lambda m: m.type == "error" and self.errors.append(f"console.error: {m.text}"),
        )

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def hits(self) -> list[str]:
        """What ran, in every frame (a frame of our pages is itself a finding)."""
        found = []
        for frame in self.page.frames:
            if frame != self.page.main_frame:
                found.append(f"a frame: {frame.url[:80]}")
            found += frame.evaluate("() => window.__xssHits ? window.__xssHits() : ['no watch']")
        return found + self.dialogs

    def violations(self) -> list[str]:
        return self.page.evaluate("() => window.__cspViolations()")


def exercise(watched: Watched, url: str, hover: bool = False) -> list[str]:
    """Load url, reveal and poke everything, and return what is wrong.

    An embedded thread's page with a signed-in reader fetches the thread again
    as that reader sees it and swaps it in: that is waited for first.
    """
    page = watched.page
    if "/embed/threads/" in url:
        with page.expect_response(lambda r: "/comments?" in r.url) as swapped:
            response = page.goto(url)
        assert swapped.value.ok
        page.wait_for_load_state("networkidle")  # the swap itself, after the answer
    else:
        response = page.goto(url)
    assert response is not None and response.status == 200, url
    revealed = page.evaluate(REVEAL)
    problems = [f"not revealed: {revealed}"] if any(revealed.values()) else []
    if hover:  # the pointer over each link in a comment, in turn
        for index in range(page.evaluate(COUNT_LINKS)):
            point = page.evaluate(POINT_AT_LINK, index)
            page.mouse.move(point["x"], point["y"])
    page.mouse.move(0, 0)
    page.wait_for_timeout(50)  # for onerror, animations and the like
    problems += watched.hits()
    problems += page.evaluate(AUDIT, sorted(COMMENT_TAGS))
    if page.url != url:
        problems.append(f"navigated to {page.url}")
    return problems


@pytest.fixture
def watched(open_context):
    return Watched(open_context(bypass_csp=True).new_page())


def sign_in_the_frame(watched: Watched, site: SeededSite) -> None:
    """Where the embedded thread's script keeps the reader's token (as after the
    sign-in popup): it then loads the thread as that reader sees it."""
    watched.page.add_init_script(f"localStorage.setItem('forum-token', {json.dumps(site.token)})")


@pytest.mark.browser
def test_the_article_with_every_vector(site, watched):
    problems = exercise(watched, site.url(f"/articles/{ARTICLE}"), hover=True)
    shown = watched.page.locator("#comment-list article.comment").count()
    assert shown == len(CORPUS)
    assert not problems, "\n".join(problems)
    problems = exercise(watched, site.url(f"/articles/{ARTICLE}?tab=theories"))
    problems += exercise(watched, site.url("/theories"))
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_embedded_thread_with_every_vector(site, watched):
    sign_in_the_frame(watched, site)
    url = site.url(f"/embed/threads/{EMBEDDED}?origin={ORIGIN}")
    problems = exercise(watched, url)
    page = watched.page
    # Its script has swapped in the thread as this reader sees it, by innerHTML.
    assert page.locator("#embed-user").inner_text() == f"Signed in as {READER}"
    assert page.locator("#embed-comments article.comment").count() == len(CORPUS)
    assert page.title() == f"Discussion: {normalize(EMBEDDED_TITLE)}"
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_profiles_of_readers_named_after_vectors(site, watched):
    problems = []
    for index in SAMPLE:
        path = f"/users/reader{index}"
        problems += [f"{path}: {p}" for p in exercise(watched, site.url(path))]
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_the_admins_list_of_embedded_threads(site, open_context, state_of):
    watched = Watched(open_context(bypass_csp=True, storage_state=state_of(ADMIN)).new_page())
    problems, url, titles = [], site.url("/moderation/embedding/threads"), 0
    while url:
        problems += exercise(watched, url)
        titles += watched.page.locator("h2.mod-item-title").count()
        more = watched.page.get_by_role("link", name="Older")
        url = site.url(more.get_attribute("href")) if more.count() else None
    assert titles == len(CORPUS) + 1
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_with_the_content_security_policy_enforced(site, open_context):
    """The same two pages as the site serves them: nothing runs either, and any
    policy violation is printed (allowed, but noted)."""
    watched = Watched(open_context().new_page())
    sign_in_the_frame(watched, site)
    problems, noted = [], []
    for path in (f"/articles/{ARTICLE}", f"/embed/threads/{EMBEDDED}?origin={ORIGIN}"):
        problems += exercise(watched, site.url(path))
        noted += [f"{path}: {v}" for v in watched.violations()]
    noted += watched.errors
    print("CSP violations and console errors:", *(noted or ["none"]), sep="\n  ")
    assert not problems, "\n".join(problems)
