"""What rendering costs, counted rather than timed.

forum/markup/budget.py bounds the work of rendering (see "what rendering may
cost" there).  Here that work is counted deterministically: every Python call, line
and return executed while one text renders (sys.settrace, caches warm), so the
same text always costs the same, whatever else the machine is doing.  The tests
check that:

* the work grows at most linearly with the length: for hostile Markdown that
  hypothesis builds (runs of * _ || ` ~ [ < &, nesting, long lines, links,
  mentions, nested lists and quotes) it stays under a line WORK_PER_CHAR *
  length + WORK_FIXED, and the same pattern four times as long costs at most
  five times as much (plus the fixed part);
* it is bounded: no comment the API accepts (BODY_MAX characters) costs more
  than WORK_MAX, the bodies of the security review among them;
* the output stays safe: allowlisted, well formed, left as it is by the
  sanitizer, and with the markup that bleach with the same policy would leave;
* what changes for pathological text changes as forum/markup/ documents.

A regular expression, a str method or nh3's cleaning counts as one call however
long it runs in C or Rust: bench/hostile_markdown.py times the whole, including
the bare-address pattern (bleach's took over 20 s on "a-a." * 2500).
"""

from __future__ import annotations

import functools
import re
import sys
from html import unescape

import pytest
from bleach.linkifier import TLDS, build_url_re
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum.markup import (
    ARTICLE_TAGS,
    COMMENT_TAGS,
    budget,
    linkify,
    normalize,
    render,
    render_article,
    render_comment,
)
from forum.markup.allowlist import sanitizer
from forum.services.discussion.comments import BODY_MAX
from tests.unit.test_markup_properties import (
    ARTICLE_ALLOWED,
    COMMENT_ALLOWED,
    assert_bleach_agrees,
    assert_clean,
)

# Calibrated on markdown-it-py 4.3.  A long ordinary comment, dense with
# markup, costs ~185,000, and the costliest hostile body found ~355,000.
# Before the bounds, "*a" * 4995 cost 1,900,000 in markdown-it and 5,100,000
# with bleach, and "[a" * 4995 6,300,000 in markdown-it alone.  Short text may
# cost up to ~450 a character: each "[a](" of "[a](" * 125 looks up to 32 "("
# ahead for the end of its link destination.
WORK_MAX = 450_000
WORK_PER_CHAR = 500
WORK_FIXED = 5_000

COST = settings(
    deadline=None,
    derandomize=True,  # the same examples every run: no flaky CI
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SPOILER_OPEN = '<span class="spoiler" tabindex="0"><span class="spoiler-text">'


def work(render, source: str) -> int:
    """The Python events (calls, lines, returns) that rendering source takes."""
    render(source)  # caches warm: the pipeline, compiled rules, regular expressions
    events = 0

    def count(frame, event, arg):
        nonlocal events
        events += 1
        return count

    previous = sys.gettrace()
    sys.settrace(count)
    try:
        render(source)
    finally:
        sys.settrace(previous)
    return events


def assert_safe(html: str, allowed=COMMENT_ALLOWED) -> None:
    """Well formed, allowlisted, links absolute with our rel (test_markup_properties)."""
    assert_clean(html, allowed)


def repeated(unit: str, length: int) -> str:
    return normalize((unit * (length // len(unit) + 1))[:length])


def rendered_text(html: str) -> str:
    """What a reader sees, roughly: tags dropped, entities decoded, no spaces."""
    return "".join(unescape(re.sub(r"<[^>]*>", "", html)).split())


# -- hostile Markdown ------------------------------------------------------------------

PIECES = [
    "*", "**", "***", "_", "__", "||", "|", "`", "``", "```", "~", "~~", "[", "]", "](",
    "[a](", "[a](https://e.org/x)", "[a][b]", "[b]: https://e.org\n", "<", ">", "<https://e.org>",
    "&", "&amp;", "&#124;", "&copy;", "\\", "!", "(", ")", "a", "word ", " ", "  ", "\n",
    "\n\n", "> ", "- ", "1. ", "    ", "```\n", "https://e.org/a?b=1", "www.e.org", "a-b.", "-",
    ".", "@name ", "@bob, ", "#", "é", "\t", "<b>", "</span>", "||a ", "a||", "*a ", "a*",
]  # fmt: skip
piece = st.sampled_from(PIECES)
unit = st.lists(piece, min_size=1, max_size=6).map("".join)
# A pattern repeated, behind an optional prefix that nests it in lists and quotes.
nesting = st.lists(st.sampled_from(["> ", "- ", "  - ", "1. ", "  "]), max_size=8).map("".join)


@st.composite
def hostile(draw, max_length: int) -> str:
    parts = draw(st.lists(st.tuples(unit, st.integers(1, 400)), min_size=1, max_size=3))
    body = draw(nesting) + "".join(u * count for u, count in parts)
    return normalize(body[:max_length])


@settings(COST, max_examples=25)
@given(unit, st.integers(250, 700))
def test_the_same_pattern_four_times_as_long_costs_at_most_five_times_as_much(pattern, length):
    # Not four: some rules look a fixed distance ahead (a link destination, up
    # to 32 nested "("), so a short text costs a little less than its share.
    short, long = repeated(pattern, length), repeated(pattern, 4 * length)
    assert work(render_comment, long) <= 5 * work(render_comment, short) + WORK_FIXED, pattern


@settings(COST, max_examples=30)
@given(hostile(max_length=3_000))
def test_work_stays_under_a_line_in_the_length(source):
    assert work(render_comment, source) <= WORK_PER_CHAR * len(source) + WORK_FIXED


@settings(COST, max_examples=15)
@given(unit, nesting)
def test_no_comment_costs_more_than_work_max(pattern, prefix):
    source = normalize(prefix + pattern * (BODY_MAX // len(pattern) + 1))[:BODY_MAX]
    html = render_comment(source)
    assert work(render_comment, source) <= WORK_MAX, pattern
    assert_safe(html)


@settings(COST, max_examples=80)
@given(hostile(max_length=400))
def test_output_is_safe_and_what_bleach_would_keep(source):
    for render_it, tags, allowed in (
        (render_comment, COMMENT_TAGS, COMMENT_ALLOWED),
        (render_article, ARTICLE_TAGS, ARTICLE_ALLOWED),
    ):
        html = render_it(source)
        assert_safe(html, allowed)
        assert sanitizer(tags).clean(html) == html
        assert_bleach_agrees(html, tags)


# -- the reported bodies, and more, at the longest a comment may be --------------------

HOSTILE = {
    # The security review's.
    "nested spoilers": "||a" * 3333,
    "emphasis run": "*a" * 4995,
    "mixed emphasis": "*_" * 4995,
    "escaped html": "<&" * 4995,
    "fences": "```\n" * 2497,
    # Found since.
    "spoilers nested deep": "||a " * 1250 + "a|| " * 1250,
    "spoilers in emphasis": "*||" * 3333,
    "link labels": "[a" * 4995,
    "link attempts": "[a](b " * 1666,
    "autolinks": "<https://a.org>" * 666,
    "reference definitions": "[a]: https://e.org\n" * 526,
    "code spans": "`a" * 4995,
    "entities": "&#x41;" * 1666,
    "line breaks": "a\n" * 4995,
    "paragraphs": "a\n\n" * 3333,
    "ordered items": "1. a\n" * 2000,
    "nested quotes": ("> " * 19 + "a\n") * 250,
    "hyphenated host": "a-a." * 2500,
    "bare addresses": "www.e.org " * 1000,
    "mentions": "@name " * 1666,
}


@functools.cache
def hostile_work(name: str) -> int:
    return work(render_comment, normalize(HOSTILE[name])[:BODY_MAX])


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bodies_cost_a_bounded_amount_and_render_safely(name):
    source = normalize(HOSTILE[name])[:BODY_MAX]
    assert len(source) > BODY_MAX - 600
    assert hostile_work(name) <= WORK_MAX
    assert_safe(render_comment(source))


def test_the_costliest_body_costs_at_most_a_few_ordinary_comments():
    assert max(map(hostile_work, HOSTILE)) <= 2.5 * work(render_comment, ordinary_comment())


# -- an ordinary long comment ------------------------------------------------------------

SENTENCES = [
    "I think the **lighthouse keeper** knew all along.",
    "Remember the scene where she *hesitates* before opening the door?",
    "That is not a woman surprised by a visitor.",
    "The map in the [trailer](https://example.org/trailer) shows the island twice.",
    "My bet: `season finale` reveals ||two timelines, not one||.",
    "@marta said the same at https://example.org/forum/t/42 last week.",
    "The clock stops at _quarter past_ in every flashback.",
]


def ordinary_comment(length: int = BODY_MAX) -> str:
    blocks, i = [], 0
    while sum(map(len, blocks)) < length:
        i += 1
        if i % 7 == 0:
            blocks.append("\n".join(f"- {SENTENCES[(i + k) % 7]}" for k in range(4)))
        elif i % 11 == 0:
            blocks.append(f"> {SENTENCES[i % 7]}\n> {SENTENCES[(i + 3) % 7]}")
        else:
            lines = [" ".join(SENTENCES[(i + k) % 7] for k in range(3)) for _ in range(2)]
            blocks.append("\n".join(lines))
    return normalize("\n\n".join(blocks)[:length])


def test_an_ordinary_long_comment_meets_no_limit(monkeypatch):
    source = ordinary_comment()
    html = render_comment(source)
    for name in ("_UNITS", "_LINES", "_BARE_LINKS"):
        monkeypatch.setattr(budget, name, 100 * getattr(budget, name))
    assert render_comment(source) == html
    assert work(render_comment, source) <= WORK_MAX // 2


# -- what changes for pathological text --------------------------------------------------


def test_spoilers_nest_eight_deep_and_deeper_pipes_stay_as_typed():
    html = render_comment("||a " * 12 + "b" + " c||" * 12)
    assert html.count(SPOILER_OPEN) == 8
    assert html.count("||") == 8  # the four innermost pairs
    assert_safe(html)


def test_emphasis_nests_eight_deep_and_deeper_markers_stay_as_typed():
    html = render_comment(
        "".join(f"{'*_'[i % 2]}a " for i in range(12))
        + "b"
        + "".join(f" a{'*_'[i % 2]}" for i in reversed(range(12)))
    )
    assert html.count("<em>") == 8
    assert_safe(html)


def test_past_the_budget_the_rest_of_the_paragraph_is_as_typed():
    html = render_comment(repeated("*a* ", BODY_MAX))
    last_em, first_literal = html.rfind("</em>"), html.find("*a*")
    assert 0 < last_em < first_literal
    assert "<em>" not in html[first_literal:]
    assert rendered_text(html).count("a") == BODY_MAX // 4


def test_line_breaks_are_kept_past_the_budget():
    source = repeated("*a* *b* *c* *d*\n", 6_400)
    html = render_comment(source)
    assert "*a*" in html  # the budget was spent
    assert html.count("<br>") == source.count("\n")


def test_past_the_budget_the_rest_of_a_list_is_in_its_last_item_as_typed():
    html = render_comment(repeated("- [x](https://e.org)\n", BODY_MAX))
    items = html.count("<li>")
    assert 20 < items < 200
    last_item = html[html.rfind("<li>") :]
    assert last_item.count("<br>\n- [x](") == BODY_MAX // 21 - items
    assert_safe(html)


def test_lines_past_the_allowance_are_as_typed_with_addresses_linked(monkeypatch):
    for name in ("_UNITS", "_BARE_LINKS"):  # only lines count here
        monkeypatch.setattr(budget, name, 100 * getattr(budget, name))
    html = render_comment(normalize("*a* e.org/x\n" * 600))
    assert html.count("<em>") == budget._LINES
    assert html[html.rfind("</em>") :].count("*a* ") == 600 - budget._LINES
    assert html.count('<a href="http://e.org/x"') == 600
    assert html.count("<br>") == 598  # the allowance's edge begins a paragraph
    assert_safe(html)


def test_bare_addresses_past_the_allowance_stay_text():
    html = render_comment("www.e.org " * 300)
    assert html.count("<a ") == budget._BARE_LINKS
    assert_safe(html)


def test_an_article_gets_an_allowance_per_ten_thousand_characters():
    ten, thirty = repeated("*a* ", BODY_MAX), repeated("*a* ", 3 * BODY_MAX)
    marked = render_article(ten).count("<em>")
    assert abs(render_article(thirty).count("<em>") - 3 * marked) <= 10
    assert work(render_article, thirty) <= 3 * work(render_article, ten) + WORK_FIXED


def test_the_pipelines_markdown_it_used_alone_has_no_budget():
    assert render._pipeline(COMMENT_TAGS).md.render("*a* ||b||").count("<em>") == 1


# -- bare addresses ---------------------------------------------------------------------

BLEACH_URL = build_url_re(protocols=["http", "https"])
address_piece = st.sampled_from(
    [
        "http://", "https://", "HTTPS://", "www.", "e", "org", ".", "co.uk", "com", "/", "?",
        "a=1", "&", "(", ")", ",", ":", "8080", "@", "user", " ", "é", "_", "1", "x",
    ]
)  # fmt: skip


@settings(COST, max_examples=200)
@given(st.lists(address_piece, max_size=14).map("".join))
def test_bare_addresses_are_those_bleach_found_where_no_hyphen_is_near(text):
    assert [m.group() for m in linkify.BARE_URL.finditer(text)] == [
        m.group() for m in BLEACH_URL.finditer(text)
    ]


@settings(COST, max_examples=150)
@given(st.lists(address_piece | st.sampled_from(["-", "xn--p1ai"]), max_size=14).map("".join))
def test_with_hyphens_each_bare_address_is_one_bleach_found(text):
    found = {m.group() for m in BLEACH_URL.finditer(text)}
    assert {m.group().lstrip("-") for m in linkify.BARE_URL.finditer(text)} <= found


def test_the_top_level_domains_are_those_bleach_linked():
    # The same text links the same as it did with bleach (linkify.TLDS says why).
    assert {tld.lower() for tld in TLDS} == linkify.TLDS


def test_an_address_after_a_hyphen_keeps_its_scheme():
    assert 'href="https://e.org"' in render_comment("see-https://e.org")
    assert 'href="http://example.org"' in render_comment("-example.org")
