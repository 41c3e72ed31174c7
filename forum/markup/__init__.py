"""Markdown source -> clean HTML.  The only importer of markdown-it and nh3.

Called once when text is written or edited; the result is stored and served
as is.  Raw HTML in the source is never markup: markdown-it escapes it to text,
and nh3 (Ammonia) then keeps only the allowlisted tags and attributes of what
Markdown produced.  What any text may cost to render is bounded (budget.py).

    allowlist.py  the tags, attributes and link schemes stored HTML may hold; nh3
    render.py     render_comment, render_article: markdown-it, then the sanitizer
    budget.py     the work one rendering may do, and markdown-it's rules spending it
    linkify.py    bare web addresses become links, in linear time
    spoilers.py   ||inline spoilers||
    text.py       normalize; plain text, excerpts and highlights of stored HTML
"""

from forum.markup.allowlist import (
    ARTICLE_TAGS,
    COMMENT_TAGS,
    LINK_REL,
    PROTOCOLS,
    _allowed_attribute,
)
from forum.markup.render import render_article, render_comment
from forum.markup.text import (
    EXCERPT,
    excerpt,
    highlight,
    name_key,
    normalize,
    spoiler_free_text,
    without_spoilers,
)

__all__ = [
    "name_key",
    "ARTICLE_TAGS",
    "COMMENT_TAGS",
    "EXCERPT",
    "LINK_REL",
    "PROTOCOLS",
    "_allowed_attribute",
    "excerpt",
    "highlight",
    "normalize",
    "render_article",
    "render_comment",
    "spoiler_free_text",
    "without_spoilers",
]
