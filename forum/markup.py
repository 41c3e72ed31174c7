"""Markdown source -> clean HTML.  The only importer of bleach and markdown-it.

Called once when text is written or edited; the result is stored and served
as is.  Raw HTML in the source is never markup: markdown-it escapes it to text,
and bleach then removes anything outside the allowlist that Markdown produced.
"""

import html
import re
import threading
import unicodedata
from functools import partial
from html.parser import HTMLParser

import bleach
from bleach.linkifier import LinkifyFilter, build_url_re
from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import Delimiter, StateInline

_TEXT_TAGS = frozenset(
    {"p", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "br"}
)
# span only ever carries an inline spoiler (see _spoilers and _allowed_attribute).
COMMENT_TAGS = _TEXT_TAGS | {"span"}
# Articles are written by the site's own editors, so they may use headings too.
ARTICLE_TAGS = _TEXT_TAGS | {"h2", "h3", "h4", "hr"}
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# C0/C1 control characters other than tab and newlines: invisible, and NUL is
# refused outright by PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_SURROGATE = re.compile(r"[\ud800-\udfff]")  # valid in JSON, not in UTF-8

# Bare URLs that become links: only web addresses (a bare ftp:// stays text).
_BARE_URL = build_url_re(protocols=["http", "https"])

_local = threading.local()  # bleach's Cleaner is not thread-safe: one per thread


def normalize(text: str) -> str:
    """The form in which user text is stored: NFC, no control characters, lone
    surrogates replaced, Unix newlines, no surrounding whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    # Controls go before NFC: one between a letter and its accent would otherwise
    # keep them apart through NFC and leave decomposed text once it is dropped.
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    return text.strip()


def render_comment(source: str) -> str:
    """Render a comment body (already normalized) to clean HTML."""
    return _pipeline(COMMENT_TAGS).render(source)


def render_article(source: str) -> str:
    return _pipeline(ARTICLE_TAGS).render(source)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a" and name == "href":
        # Absolute links only: a relative one ("https:foo", a bare "http") would
        # point into whichever site shows the thread.  bleach then checks the
        # scheme against PROTOCOLS as well.
        return _is_absolute(value)
    if tag == "span":
        # The two spans of an inline spoiler, with exactly these values.
        return (name, value) in {("class", "spoiler"), ("class", "spoiler-text"), ("tabindex", "0")}
    return (tag, name) in {("a", "title"), ("a", "rel"), ("ol", "start")}


def _is_absolute(href: str) -> bool:
    return href.strip().lower().startswith(("http://", "https://", "mailto:"))


def _set_rel(attrs, new=False):
    """Every link gets our rel; a bare address the linkifier found ("http:0.org")
    that is not absolute stays text (returning None unmakes the link)."""
    href = attrs.get((None, "href"))
    if href is None:
        return attrs
    if not _is_absolute(href):
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _markdown(tags: frozenset[str]) -> MarkdownIt:
    comment = "h2" not in tags
    # In a comment a single newline is a line break, as readers expect from a text box.
    md = MarkdownIt("commonmark", {"html": False, "breaks": comment})
    # No images yet: ![alt](src) stays a plain link to the picture.
    md.disable("image")
    if comment:
        # "# Theory" in a comment stays text rather than losing its "#".
        md.disable(["heading", "lheading", "hr"])
        _spoilers(md)
    return md


# Inline spoilers: ||hidden text|| in a comment.
#
# Stored markup:
#     <span class="spoiler" tabindex="0"><span class="spoiler-text">…</span></span>
#
# Why spans and not <details>: a spoiler sits inside a sentence, and <details> is
# flow content that cannot be inside <p> (a parser closes the paragraph at it).
# Spans are phrasing content, valid wherever the spoiler appears, and may hold
# the inline markup around them (emphasis, code, links).  Without JavaScript the
# CSS conceals .spoiler-text (display: none, so screen readers skip it too) behind
# a "Spoiler" bar; the outer span is focusable, so a click or Tab reveals it for
# as long as focus stays within (:focus-within).  static/js/spoilers.js replaces
# that with a real disclosure button (aria-expanded) beside the text, so the
# stored HTML never holds a <button>, and links inside a spoiler stay valid.
#
# Parsing follows markdown-it's own emphasis-like pairs: "||" runs are delimiters
# inside one paragraph's inline content, so code spans, autolinks and escapes
# keep their "||" literal, an unmatched "||" stays text, and a spoiler never
# spans paragraphs.  A run of one or three or more pipes is plain text, as is
# "||" inside link text (a focusable spoiler cannot sit inside a link).

_PIPE = 0x7C  # |


def _spoilers(md: MarkdownIt) -> None:
    md.inline.add_terminator_char("|")  # else the text rule swallows the pipes
    md.inline.ruler.before("emphasis", "spoiler", _spoiler_tokenize)
    md.inline.ruler2.before("emphasis", "spoiler", _spoiler_post_process)
    md.add_render_rule("spoiler_open", _render_spoiler_open)
    md.add_render_rule("spoiler_close", _render_spoiler_close)


def _spoiler_tokenize(state: StateInline, silent: bool) -> bool:
    if silent or state.src[state.pos] != "|":
        return False
    scanned = state.scanDelims(state.pos, True)
    token = state.push("text", "", 0)
    token.content = "|" * scanned.length
    if scanned.length == 2 and state.linkLevel == 0:
        state.delimiters.append(
            Delimiter(
                marker=_PIPE,
                length=0,  # no emphasis "rule of 3"
                token=len(state.tokens) - 1,
                end=-1,
                open=scanned.can_open,
                close=scanned.can_close,
            )
        )
    state.pos += scanned.length
    return True


def _spoiler_post_process(state: StateInline) -> None:
    _spoiler_pairs(state, state.delimiters)
    for meta in state.tokens_meta:
        if meta and "delimiters" in meta:
            _spoiler_pairs(state, meta["delimiters"])


def _spoiler_pairs(state: StateInline, delimiters: list[Delimiter]) -> None:
    # balance_pairs has matched them already, and properly nested: as with
    # emphasis, the pair that closes first wins ("*a ||b* c||" keeps its pipes).
    for opener in delimiters:
        if opener.marker != _PIPE or opener.end == -1:
            continue
        closer = delimiters[opener.end]
        for token, nesting in ((state.tokens[opener.token], 1), (state.tokens[closer.token], -1)):
            token.type = "spoiler_open" if nesting == 1 else "spoiler_close"
            token.tag = "span"
            token.nesting = nesting
            token.markup = "||"
            token.content = ""


def _render_spoiler_open(self, tokens, idx, options, env) -> str:
    return '<span class="spoiler" tabindex="0"><span class="spoiler-text">'


def _render_spoiler_close(self, tokens, idx, options, env) -> str:
    return "</span></span>"


class _Pipeline:
    def __init__(self, tags: frozenset[str]):
        self.md = _markdown(tags)
        self.cleaner = bleach.Cleaner(
            tags=tags,
            attributes=_allowed_attribute,
            protocols=PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[
                partial(
                    LinkifyFilter,
                    url_re=_BARE_URL,
                    callbacks=[_set_rel],
                    skip_tags={"pre", "code"},
                    parse_email=False,
                )
            ],
        )

    def render(self, source: str) -> str:
        return self.cleaner.clean(self.md.render(source)).strip()


def _pipeline(tags: frozenset[str]) -> _Pipeline:
    pipelines = getattr(_local, "pipelines", None)
    if pipelines is None:
        pipelines = _local.pipelines = {}
    if tags not in pipelines:
        pipelines[tags] = _Pipeline(tags)
    return pipelines[tags]


_TAG = re.compile(r"(<[^>]*>)")


def highlight(clean_html: str, words: list[str]) -> str:
    """Wrap each occurrence of these words in <mark>, for moderators.

    clean_html must be this module's own output: only its text between tags is
    touched, and the words are escaped before they are looked for.
    """
    if not words:
        return clean_html
    escaped = sorted(
        {html.escape(w, quote=False) for w in words if w.strip()}, key=len, reverse=True
    )
    if not escaped:
        return clean_html
    pattern = re.compile("|".join(re.escape(w) for w in escaped), re.IGNORECASE)
    parts = _TAG.split(clean_html)
    for i in range(0, len(parts), 2):  # even indexes are text, odd ones tags
        parts[i] = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", parts[i])
    return "".join(parts)


# -- plain text from stored HTML (feeds, emails, lists) -------------------------------

EXCERPT = 80
_CHUNK = 512  # feed the parser in pieces and stop once there is enough text
# The sanitizer lets a span into a comment only as part of an inline spoiler.
_SPAN_TAG = re.compile(r"(<span\b[^>]*>|</span>)")


def without_spoilers(clean_html: str, placeholder: str) -> str:
    """The comment's HTML with each inline spoiler (||text||) replaced whole by
    placeholder.  On the site CSS hides them; a feed reader ignores the site's
    CSS and would show them.  The sanitizer lets a span into a comment only as
    part of a spoiler, so every span tag is one, and "<span" occurs nowhere else
    (in text and attribute values it is escaped); spoilers may nest, hence the
    depth.  A regular split keeps this linear however many spoilers there are."""
    if "<span" not in clean_html:
        return clean_html
    kept, depth = [], 0
    for index, part in enumerate(_SPAN_TAG.split(clean_html)):
        if index % 2 == 0:  # what lies between span tags
            if depth == 0:
                kept.append(part)
        elif part.startswith("</"):
            depth = max(0, depth - 1)
        else:
            if depth == 0:
                kept.append(placeholder)
            depth += 1
    return "".join(kept)


class _TextOnly(HTMLParser):
    BLOCKS = frozenset({"p", "br", "li", "blockquote", "pre", "ul", "ol"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data):
        self.parts.append(data)


def excerpt(clean_html: str, limit: int = EXCERPT) -> str:
    """The first words of a comment's HTML as plain text, at most limit characters."""
    parser = _TextOnly()
    # In pieces, stopping once there is enough text: a long comment costs no more.
    for start in range(0, len(clean_html), _CHUNK):
        parser.feed(clean_html[start : start + _CHUNK])
        if sum(map(len, parser.parts)) > 2 * limit:
            break
    else:
        parser.close()
    text = " ".join("".join(parser.parts).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


def spoiler_free_text(clean_html: str, limit: int = 500) -> str:
    """Plain text of stored HTML with each inline spoiler shown as [spoiler]."""
    return excerpt(without_spoilers(clean_html, "[spoiler]"), limit)
