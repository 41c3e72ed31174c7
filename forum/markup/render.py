"""Markdown source -> clean HTML, for comments and articles.

markdown-it-py renders with raw HTML off (typed HTML is shown as the text it
is), under a work budget (budget.py); bare addresses become links (linkify.py);
then nh3 keeps only what allowlist.py allows, whatever markdown-it wrote.
"""

import re
import threading

import nh3
from markdown_it import MarkdownIt

from forum.markup.allowlist import ARTICLE_TAGS, COMMENT_TAGS, sanitizer
from forum.markup.budget import BUDGET, Budget, bound_the_work, split_after_lines
from forum.markup.linkify import link_bare_addresses, linkified, render_bare_link
from forum.markup.spoilers import spoilers

_SURROGATE = re.compile(r"[\ud800-\udfff]")  # nh3 takes only text UTF-8 can hold

_local = threading.local()  # a pipeline per thread: none of it is shared


def render_comment(source: str) -> str:
    """Render a comment body (already normalized) to clean HTML."""
    return _pipeline(COMMENT_TAGS).render(source)


def render_article(source: str) -> str:
    return _pipeline(ARTICLE_TAGS).render(source)


def _markdown(tags: frozenset[str]) -> MarkdownIt:
    comment = "h2" not in tags
    # In a comment a single newline is a line break, as readers expect from a text box.
    md = MarkdownIt("commonmark", {"html": False, "breaks": comment})
    # No images yet: ![alt](src) stays a plain link to the picture.  With html off
    # the two html rules match nothing; disabled, they are not even tried.
    md.disable(["image", "html_block", "html_inline"])
    if comment:
        # "# Theory" in a comment stays text rather than losing its "#".
        md.disable(["heading", "lheading", "hr"])
        spoilers(md)
    bound_the_work(md)
    md.core.ruler.push("bare_links", link_bare_addresses)
    md.add_render_rule("bare_link", render_bare_link)
    return md


class Pipeline:
    """markdown-it set up for comments or for articles, and the sanitizer for their tags."""

    def __init__(self, tags: frozenset[str]):
        self.md = _markdown(tags)
        self.cleaner: nh3.Cleaner = sanitizer(tags)

    def render(self, source: str) -> str:
        budget = Budget(len(source))
        if _SURROGATE.search(source):
            source = _SURROGATE.sub("\ufffd", source)
        source, rest = split_after_lines(source, budget.lines)
        html = self.md.render(source, {BUDGET: budget})
        if rest.strip():
            html = f"{html}\n{_paragraph_as_typed(rest.strip(), self.md.options, budget)}"
        return self.cleaner.clean(html).strip()


def _paragraph_as_typed(text: str, options, budget: Budget) -> str:
    """Text past the line allowance: escaped and linked, lines kept, no Markdown."""
    html = linkified(text, budget)
    if options["breaks"]:
        html = html.replace("\n", "<br>\n")
    return f"<p>{html}</p>"


def _pipeline(tags: frozenset[str]) -> Pipeline:
    pipelines = getattr(_local, "pipelines", None)
    if pipelines is None:
        pipelines = _local.pipelines = {}
    if tags not in pipelines:
        pipelines[tags] = Pipeline(tags)
    return pipelines[tags]
