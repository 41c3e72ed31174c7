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

import bleach
from bleach.linkifier import LinkifyFilter, build_url_re
from markdown_it import MarkdownIt

COMMENT_TAGS = frozenset(
    {"p", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "br"}
)
# Articles are written by the site's own editors, so they may use headings too.
ARTICLE_TAGS = COMMENT_TAGS | {"h2", "h3", "h4", "hr"}
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
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return text.strip()


def render_comment(source: str) -> str:
    """Render a comment body (already normalized) to clean HTML."""
    return _pipeline(COMMENT_TAGS).render(source)


def render_article(source: str) -> str:
    return _pipeline(ARTICLE_TAGS).render(source)


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a" and name == "href":
        # Absolute links only: a relative one would point into whichever site
        # embeds the thread.  bleach then checks the scheme against PROTOCOLS.
        scheme, _, _ = value.partition(":")
        return scheme.strip().lower() in PROTOCOLS
    return (tag, name) in {("a", "title"), ("a", "rel"), ("ol", "start")}


def _set_rel(attrs, new=False):
    href_key = (None, "href")
    if href_key not in attrs:
        return attrs
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
    return md


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
