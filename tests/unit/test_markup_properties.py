"""Properties of the sanitizer pipeline, for any text at all.

Hypothesis feeds ``render_comment(normalize(text))`` and ``render_article`` with
arbitrary Unicode (lone surrogates and control characters included) and with
text built from a grammar of HTML tags, attributes, entities, Markdown link
syntax, ``javascript:`` obfuscations and spoiler pipes, and checks that:

* the output is well-formed HTML: html.parser reads it without error, with no
  comments, declarations or processing instructions, and every element closed
  in order;
* every element and attribute is on the allowlist that forum/markup/ states
  (written out here independently, so that widening it is a visible change),
  and every tag is written in the one shape the sanitizer writes, never with a
  "<" or ">" inside an attribute value;
* every href is absolute http(s) or mailto, and every link carries the rel
  ("https:foo" or a bare "http" would be relative: pinned by their own test);
* rendering is deterministic, also in a fresh pipeline on another thread;
* a second opinion, bleach (html5lib) with the same policy and the same
  bare-address pattern, would remove no element or attribute and link nothing
  more (assert_bleach_agrees: used here and by the other markup tests);
* the output fed back in as a comment body is inert: each of its tags comes
  back as escaped text (or, as CommonMark has it, inside a link's title or
  <...> destination, which never makes a live href), and the result is still
  allowlisted;
* normalize() gives the stored form it promises (NFC, also around dropped
  control characters).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import Counter
from html.parser import HTMLParser

import bleach
import pytest
from bleach.linkifier import LinkifyFilter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from forum import markup
from forum.markup import normalize, render_article, render_comment
from forum.markup.allowlist import is_absolute
from forum.markup.linkify import BARE_URL

# -- the allowlist, as forum/markup/ states it ---------------------------------------

_TEXT = {"p", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "br"}
COMMENT_ALLOWED = _TEXT | {"span"}
ARTICLE_ALLOWED = _TEXT | {"h2", "h3", "h4", "hr"}
VOID = {"br", "hr"}
LINK_REL = "nofollow ugc noopener"
# The only attribute sets a span may carry: the two of an inline spoiler.
SPOILER_SPANS = [{"class": "spoiler", "tabindex": "0"}, {"class": "spoiler-text"}]

PROPERTIES = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same examples every run: no flaky CI
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Strict(HTMLParser):
    """Reads HTML and records elements, text and anything that is not plain markup."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.problems: list[str] = []
        self.open: list[str] = []
        self.feed(html)
        self.close()
        if self.open:
            self.problems.append(f"unclosed {self.open}")

    def handle_starttag(self, tag, attrs):
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.problems.append(f"repeated attribute on <{tag}>: {names}")
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.problems.append(f"self-closing <{tag}/>")
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in VOID or not self.open or self.open[-1] != tag:
            self.problems.append(f"stray </{tag}> (open: {self.open})")
        else:
            self.open.pop()

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl):
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data):
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data):
        self.problems.append(f"unknown declaration {data!r}")


def assert_absolute(href: str, html: str) -> None:
    # A scheme is case-insensitive: HTTPS://E.ORG is as absolute as https://e.org.
    scheme, colon, rest = href.partition(":")
    assert colon and scheme.lower() in {"http", "https", "mailto"}, (href, html)
    assert scheme.lower() == "mailto" or rest.startswith("//"), (href, html)


# A tag as the sanitizer writes one.  text.py's highlight and without_spoilers
# rely on this shape: no "<" or ">" inside an attribute value (nh3 0.3.7 was
# the first to escape them there).
_TAG_SHAPE = re.compile(r'</?[a-z][a-z0-9]*(?: [a-z][a-z-]*="[^"<>]*")*>')


def assert_clean(html: str, allowed: set[str]) -> Strict:
    parsed = Strict(html)
    assert not parsed.problems, (parsed.problems, html)
    for tag in re.findall(r"<[^>]*>?", html):
        assert _TAG_SHAPE.fullmatch(tag), (tag, html)
    for tag, attrs in parsed.elements:
        assert tag in allowed, (tag, html)
        if tag == "span":
            assert attrs in SPOILER_SPANS, (attrs, html)
        elif tag == "a":
            assert set(attrs) <= {"href", "title", "rel"}, (attrs, html)
            if "href" in attrs:
                assert_absolute(attrs["href"] or "", html)
                assert attrs.get("rel") == LINK_REL, html
        elif tag == "ol":
            assert set(attrs) <= {"start"}, (attrs, html)
            if "start" in attrs:
                assert re.fullmatch(r"[0-9]+", attrs["start"] or ""), html
        else:
            assert not attrs, (tag, attrs, html)
    return parsed


# -- a second opinion: bleach with the same policy ------------------------------------
#
# nh3 (Ammonia) cleans what is stored; bleach (html5lib) used to, and stays a test
# dependency as an independent check of the whole pipeline.  Given the same
# policy and the same bare-address pattern, it must leave every element and
# attribute of ours in place and add none: the markup of its output is ours.
# Only the markup is compared: bleach writes some text differently (it makes an
# entity of "&amp;copy;"; nh3 writes a no-break space as "&nbsp;").


def _rel(attrs, new=False):
    href = attrs.get((None, "href"))
    if href is None:
        return attrs
    if not is_absolute(href):
        return None  # a bare "http:0.org" stays text
    attrs[(None, "rel")] = LINK_REL
    return attrs


@functools.cache
def _bleach(tags: frozenset[str]) -> bleach.Cleaner:
    linkify = functools.partial(
        LinkifyFilter,
        url_re=BARE_URL,
        callbacks=[_rel],
        skip_tags={"pre", "code"},
        parse_email=False,
    )
    return bleach.Cleaner(
        tags=tags,
        attributes=markup._allowed_attribute,
        protocols=markup.PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[linkify],
    )


class _Markup(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, sorted(attrs)))

    def handle_endtag(self, tag):
        self.tags.append(("/" + tag,))


def assert_bleach_agrees(html: str, tags: frozenset[str] = markup.COMMENT_TAGS) -> None:
    assert _Markup(_bleach(tags).clean(html)).tags == _Markup(html).tags, html


# -- inputs --------------------------------------------------------------------------

# Any code point, lone surrogates and C0/C1 controls included (st.text() alone
# leaves surrogates out).
any_char = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(categories=["Cs"]),
    st.characters(max_codepoint=0x9F, categories=["Cc"]),
)
any_text = st.text(any_char, max_size=40)


def _obfuscate(draw_case, draw_gaps, word: str) -> str:
    """'javascript:' spelt the ways browsers and parsers have been fooled."""
    out = []
    for ch, upper, gap in zip(word, draw_case, draw_gaps, strict=False):
        out.append(gap)
        out.append(ch.upper() if upper else ch)
    return "".join(out)


_GAPS = ["", "", "", "\t", "\n", "\r", "\x00", "\u200b", "%0a", "&#x09;", "&Tab;", "\\"]
_ENCODED = st.sampled_from(["&#106;", "&#x6A;", "&#0000106;", "&#X6a", "%6A", "&#x6a"]).map(
    lambda j: j + "avascript:"
)


@st.composite
def javascript(draw) -> str:
    word = draw(st.sampled_from(["javascript:", "vbscript:", "data:", "livescript:"]))
    cases = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    gaps = draw(st.lists(st.sampled_from(_GAPS), min_size=len(word), max_size=len(word)))
    spelt = draw(st.one_of(st.just(_obfuscate(cases, gaps, word)), _ENCODED))
    colon = draw(st.sampled_from([":", "&colon;", "&#58;", "&#x3a;", "%3A"]))
    spelt = spelt[:-1] + colon if spelt.endswith(":") else spelt
    lead = draw(st.sampled_from(["", " ", "\x01", "\u00a0", "\n"]))
    return lead + spelt + draw(st.sampled_from(["alert(1)", "//%0aalert(1)", "x"]))


url = st.one_of(
    javascript(),
    st.sampled_from(
        [
            "https://example.org/a?b=1&c=2",
            "http://e.org",
            "mailto:a@example.org",
            "www.example.org",
            "//evil.example/p",
            "/relative",
            "ftp://e.org",
            "file:///etc/passwd",
            'https://e.org/"onmouseover="alert(1)',
            "https://e.org/<script>",
            "HTTPS://E.ORG",
            "https:foo",
            "http:/x",
            "HTTP:e.org",
            "mailto:",
            "http",
            "MAILTO",
            " https://e.org ",
            "",
        ]
    ),
)
entity = st.sampled_from(
    [
        "&lt;",
        "&gt;",
        "&amp;",
        "&quot;",
        "&#39;",
        "&#60;",
        "&#x3c;",
        "&#0;",
        "&#xD800;",
        "&#x110000;",
        "&#99999999;",
        "&NewLine;",
        "&colon;",
        "&nbsp",
        "&;",
        "&#;",
        "&lt",
        "&amp;lt;",
    ]
)
tag_name = st.sampled_from(
    [
        "script",
        "img",
        "a",
        "span",
        "p",
        "b",
        "em",
        "svg",
        "math",
        "iframe",
        "details",
        "style",
        "div",
        "h2",
        "hr",
        "br",
        "ol",
        "noscript",
        "textarea",
        "template",
        "object",
        "SCRIPT",
        "ScRiPt",
    ]
)
attr_name = st.sampled_from(
    [
        "href",
        "src",
        "onerror",
        "onload",
        "class",
        "style",
        "tabindex",
        "title",
        "rel",
        "start",
        "xlink:href",
        "formaction",
    ]
)
attr_value = st.one_of(
    url, st.sampled_from(["spoiler", "spoiler-text", "0", "alert(1)", "x", "1"]), entity
)


@st.composite
def attribute(draw) -> str:
    quote = draw(st.sampled_from(['"', "'", "", "`"]))
    sep = draw(st.sampled_from([" ", "/", "\t", "\n"]))
    return f"{sep}{draw(attr_name)}={quote}{draw(attr_value)}{quote}"


@st.composite
def html_tag(draw) -> str:
    name = draw(tag_name)
    kind = draw(st.sampled_from(["open", "close", "self", "comment", "broken"]))
    attrs = "".join(draw(st.lists(attribute(), max_size=3)))
    if kind == "close":
        return f"</{name}>"
    if kind == "self":
        return f"<{name}{attrs}/>"
    if kind == "comment":
        return f"<!--{attrs}-->"
    if kind == "broken":
        return f"<{name}{attrs}"
    return f"<{name}{attrs}>"


short_text = st.one_of(
    st.sampled_from(["x", "text", "a b", "||", "*em*", "`c`", ""]), st.text(max_size=5)
)


@st.composite
def markdown_link(draw) -> str:
    text, dest = draw(short_text), draw(url)
    title = draw(st.sampled_from(["", ' "t"', " 't'", ' "a\\"b"', " (t)"]))
    bang = draw(st.sampled_from(["", "!"]))
    form = draw(st.sampled_from(["inline", "pointy", "reference", "autolink", "bare"]))
    if form == "inline":
        return f"{bang}[{text}]({dest}{title})"
    if form == "pointy":
        return f"{bang}[{text}](<{dest}>{title})"
    if form == "reference":
        return f"{bang}[{text}][r]\n\n[r]: {dest}{title}\n"
    if form == "autolink":
        return f"<{dest}>"
    return dest


markdown_bit = st.sampled_from(
    [
        "||",
        "|",
        "|||",
        "\\||",
        "*",
        "**",
        "_",
        "`",
        "```\n",
        "~~~",
        "\n",
        "\n\n",
        "  \n",
        "> ",
        "- ",
        "1. ",
        "7) ",
        "    ",
        "\\",
        "# ",
        "## ",
        "---",
        "===",
        "[",
        "]",
        "(",
        ")",
        "[r]: ",
        "a@example.org",
        "https://example.org/x",
        "www.example.org",
        " ",
        "\t",
        "\r\n",
        "\x00",
        "\u0301",
        "\ud800",
        "\u1100",
    ]
)

hostile_text = st.lists(
    st.one_of(html_tag(), entity, markdown_link(), markdown_bit, javascript(), any_text),
    max_size=12,
).map("".join)
source = st.one_of(any_text, hostile_text)


# -- the properties ------------------------------------------------------------------


@PROPERTIES
@given(source)
@example("<a href='jav&#x09;ascript:alert(1)'>x</a>")
@example("[x](&#x6A;&#x61;&#x76;&#x61;script:alert(1))")
@example("||[x](https://e.org)||")
@example("\ud800||\x00<script>||")
def test_comment_output_is_well_formed_and_allowlisted(text):
    html = render_comment(normalize(text))
    assert_clean(html, COMMENT_ALLOWED)
    assert_bleach_agrees(html)


@PROPERTIES
@given(source)
@example("## [x](javascript:alert(1))\n\n---\n\n<h1>t</h1>")
def test_article_output_is_well_formed_and_allowlisted(text):
    html = render_article(normalize(text))
    assert_clean(html, ARTICLE_ALLOWED)
    assert_bleach_agrees(html, markup.ARTICLE_TAGS)


def _in_fresh_thread(render, text: str) -> str:
    """Render on a new thread, so through a new pipeline (they are per thread)."""
    out: list[str] = []
    errors: list[BaseException] = []

    def run():
        try:
            out.append(render(text))
        except BaseException as error:  # re-raised on the test's thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out[0]


@settings(PROPERTIES, max_examples=150)
@given(source, source)
def test_rendering_is_deterministic(text, other):
    text = normalize(text)
    for render in (render_comment, render_article):
        first = render(text)
        render(normalize(other))  # a reused pipeline keeps no state between calls
        assert render(text) == first
        assert _in_fresh_thread(render, text) == first


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")


@PROPERTIES
@given(source)
@example("[x](https://e.org 't') and ||s||\n- li")
# The output's own tags as a link's destination or title on the second pass:
# '<p>[x](<br>\n't')</p>' and "<p>[x](/ '<em>t</em>')</p>" (see below).
@example("\\[x\\](\n't')")
@example("\\[x\\](/ '*t*')")
def test_output_fed_back_as_a_comment_is_inert_text(text):
    for render in (render_comment, render_article):
        once = render(normalize(text))
        again = render_comment(normalize(once))
        parsed = assert_clean(again, COMMENT_ALLOWED)
        # Each tag of the first rendering is text now: it is still there, escaped,
        # in the text of the second...
        shown = Counter(m.groups() for m in _TAG.finditer("".join(parsed.text)))
        links = [attrs for tag, attrs in parsed.elements if tag == "a"]
        # ...or, as CommonMark reads "[x](<br>\n't')" and "[x](/ '<em>t</em>')", it
        # became a link's title (escaped text in an attribute) or its <...>
        # destination: one tag, and never a live href (a tag name is no allowed
        # scheme, so the sanitizer drops it).  Either way it is inert.
        for attrs in links:
            shown += Counter(m.groups() for m in _TAG.finditer(attrs.get("title") or ""))
        unshown = (Counter(m.groups() for m in _TAG.finditer(once)) - shown).total()
        hrefless = sum("href" not in attrs for attrs in links)
        assert unshown <= hrefless, (unshown, once, again)
        # And the same stable answer each time.
        assert render_comment(normalize(once)) == again


@pytest.mark.parametrize(
    "source", ["[x](https:foo)", "[x](https:/foo)", "<http:0.ORG>", "[x](http)", "[x](MAILTO)"]
)
def test_a_scheme_alone_does_not_make_a_link_absolute(source):
    for tag, attrs in Strict(render_comment(source)).elements:
        if tag == "a" and "href" in attrs:
            href = attrs["href"]
            scheme, colon, rest = href.partition(":")
            assert colon and (scheme.lower() == "mailto" or rest.startswith("//")), href


# -- normalize -------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Text where normalization has work to do: letters with combining marks, Hangul
# jamo, line endings, controls and lone surrogates between them.
normalizable = st.one_of(
    any_text,
    st.text(
        st.sampled_from(
            ["e", "A", " ", "\t", "\n", "\r", "\x00", "\x07", "\x85", "\x9b", "\u0301"]
            + ["\u0327", "\u1100", "\u1161", "\u11a8", "\u212b", "\ud800", "\udfff", "\u2028"]
        ),
        max_size=12,
    ),
)


@PROPERTIES
@given(normalizable)
def test_normalize_gives_the_stored_form(text):
    out = normalize(text)
    assert not _CONTROL.search(out)
    assert "\r" not in out
    assert not any("\ud800" <= ch <= "\udfff" for ch in out)
    out.encode("utf-8")  # storable
    assert out == out.strip()
    assert unicodedata.is_normalized("NFC", out), repr(out)
    assert normalize(out) == out


def test_normalize_output_is_nfc_even_around_dropped_controls():
    out = normalize("e\x00\u0301")
    assert unicodedata.is_normalized("NFC", out), repr(out)
    assert normalize(out) == out
