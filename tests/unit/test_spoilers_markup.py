"""Inline spoilers, ||hidden text||: a table of comment sources and the exact HTML
they become, the markup allowlist they need and nothing more, and a property
check that whatever is typed, a spoiler's markup comes out whole and well formed."""

import random
import time
from html.parser import HTMLParser

import pytest

from forum import markup
from forum.markup import COMMENT_TAGS, normalize, render_article, render_comment, without_spoilers
from forum.markup.allowlist import sanitizer
from tests.unit.test_markup_properties import assert_bleach_agrees

REL = 'rel="nofollow ugc noopener"'
OPEN = '<span class="spoiler" tabindex="0"><span class="spoiler-text">'
CLOSE = "</span></span>"


def hidden(inner: str) -> str:
    return f"{OPEN}{inner}{CLOSE}"


def link(href: str, text: str) -> str:
    return f'<a href="{href}" {REL}>{text}</a>'


CASES = [
    # The markup itself.
    ("||Marguerite did it||", f"<p>{hidden('Marguerite did it')}</p>"),
    ("I think ||she lit it|| herself.", f"<p>I think {hidden('she lit it')} herself.</p>"),
    ("||one|| and ||two||", f"<p>{hidden('one')} and {hidden('two')}</p>"),
    ("mid||word||s", f"<p>mid{hidden('word')}s</p>"),
    ("(||aside||)", f"<p>({hidden('aside')})</p>"),
    # Inline markup inside works, and stays inside.
    (
        "||the *keeper* is **gone**||",
        f"<p>{hidden('the <em>keeper</em> is <strong>gone</strong>')}</p>",
    ),
    ("||run `make` twice||", f"<p>{hidden('run <code>make</code> twice')}</p>"),
    ("*||emphasised||*", f"<p><em>{hidden('emphasised')}</em></p>"),
    ("**see: ||x||**", f"<p><strong>see: {hidden('x')}</strong></p>"),
    ("||line one\nline two||", "<p>" + hidden("line one<br>\nline two") + "</p>"),
    ("> ||quoted||", f"<blockquote>\n<p>{hidden('quoted')}</p>\n</blockquote>"),
    ("- ||listed||", f"<ul>\n<li>{hidden('listed')}</li>\n</ul>"),
    ("||a ||b|| c||", f"<p>{hidden('a ' + hidden('b') + ' c')}</p>"),
    # Links inside a spoiler are kept inside it.
    (
        "||[the source](https://example.org/s)||",
        f"<p>{hidden(link('https://example.org/s', 'the source'))}</p>",
    ),
    (
        "||https://example.org/x||",
        f"<p>{hidden(link('https://example.org/x', 'https://example.org/x'))}</p>",
    ),
    (
        "||see https://example.org/x|| after",
        f"<p>{hidden('see ' + link('https://example.org/x', 'https://example.org/x'))} after</p>",
    ),
    (
        "https://example.org/a||b||",
        f"<p>{link('https://example.org/a', 'https://example.org/a')}{hidden('b')}</p>",
    ),
    # A spoiler is never made inside link text (it would be focusable inside a link).
    ("[||x||](https://e.org)", f"<p>{link('https://e.org', '||x||')}</p>"),
    ("||[a||](https://e.org)", f"<p>||{link('https://e.org', 'a||')}</p>"),
    (
        "<https://e.org/||x||>",
        f"<p>{link('https://e.org/%7C%7Cx%7C%7C', 'https://e.org/||x||')}</p>",
    ),
    # Code keeps its pipes.
    ("`a || b`", "<p><code>a || b</code></p>"),
    ("`||x||`", "<p><code>||x||</code></p>"),
    ("||a `b|| c`", "<p>||a <code>b|| c</code></p>"),
    ("```\n||x||\n```", "<pre><code>||x||\n</code></pre>"),
    ("x\n\n    ||indented||", "<p>x</p>\n<pre><code>||indented||\n</code></pre>"),
    # Unclosed, unopenable or escaped pipes are text.
    ("||unclosed", "<p>||unclosed</p>"),
    ("closed only||", "<p>closed only||</p>"),
    ("a || b || c", "<p>a || b || c</p>"),
    ("|| spaced ||", "<p>|| spaced ||</p>"),
    ("|one pipe|", "<p>|one pipe|</p>"),
    ("|||three|||", "<p>|||three|||</p>"),
    ("||||", "<p>||||</p>"),
    (r"\||escaped||", "<p>||escaped||</p>"),
    (r"\|\|x\|\|", "<p>||x||</p>"),
    ("&#124;&#124;x&#124;&#124;", "<p>||x||</p>"),
    # Never across paragraphs, list items or quotes.
    ("||one\n\ntwo||", "<p>||one</p>\n<p>two||</p>"),
    ("- ||a\n- b||", "<ul>\n<li>||a</li>\n<li>b||</li>\n</ul>"),
    ("> ||a\n\nb||", "<blockquote>\n<p>||a</p>\n</blockquote>\n<p>b||</p>"),
    # As with emphasis, the pair that closes first wins and nothing crosses.
    ("||a *b|| c*", f"<p>{hidden('a *b')} c*</p>"),
    ("*a ||b* c||", "<p><em>a ||b</em> c||</p>"),
    ("**a ||b** c||", "<p><strong>a ||b</strong> c||</p>"),
    # Hostile: HTML imitating the markup is text, inside a spoiler or not.  (Quotes
    # in text need no escaping; every "<" and ">" is escaped.)
    ('<span class="spoiler">x</span>', '<p>&lt;span class="spoiler"&gt;x&lt;/span&gt;</p>'),
    (
        '<span class="spoiler" tabindex="0"><span class="spoiler-text">x</span></span>',
        '<p>&lt;span class="spoiler" tabindex="0"&gt;'
        '&lt;span class="spoiler-text"&gt;x&lt;/span&gt;&lt;/span&gt;</p>',
    ),
    ("<details open>x</details>", "<p>&lt;details open&gt;x&lt;/details&gt;</p>"),
    (
        "<details><summary>Spoiler</summary>x</details>",
        "<p>&lt;details&gt;&lt;summary&gt;Spoiler&lt;/summary&gt;x&lt;/details&gt;</p>",
    ),
    (
        '<button onclick="alert(1)">Spoiler</button>',
        '<p>&lt;button onclick="alert(1)"&gt;Spoiler&lt;/button&gt;</p>',
    ),
    (
        "||<button onclick=alert(1)>x</button>||",
        f"<p>{hidden('&lt;button onclick=alert(1)&gt;x&lt;/button&gt;')}</p>",
    ),
    (
        "||x</span></span><script>alert(1)</script>||",
        f"<p>{hidden('x&lt;/span&gt;&lt;/span&gt;&lt;script&gt;alert(1)&lt;/script&gt;')}</p>",
    ),
    ('||" onmouseover="alert(1)||', "<p>" + hidden('" onmouseover="alert(1)') + "</p>"),
    ("||[x](javascript:alert(1))||", f"<p>{hidden('[x](javascript:alert(1))')}</p>"),
    ("||[x](/relative)||", f"<p>{hidden(f'<a {REL}>x</a>')}</p>"),
    (
        "||x||<img src=x onerror=alert(1)>",
        f"<p>{hidden('x')}&lt;img src=x onerror=alert(1)&gt;</p>",
    ),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_renders_exactly(source, expected):
    assert render_comment(normalize(source)) == expected


def test_articles_have_no_spoiler_markup():
    # Spoilers are a reader's tool; an article's "||" stays as typed.
    assert render_article("||x||") == "<p>||x||</p>"


# -- the allowlist -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "name", "value", "allowed"),
    [
        ("span", "class", "spoiler", True),
        ("span", "class", "spoiler-text", True),
        ("span", "tabindex", "0", True),
        ("span", "class", "spoiler other", False),
        ("span", "class", "spoiler-toggle", False),
        ("span", "class", "Spoiler", False),
        ("span", "tabindex", "-1", False),
        ("span", "tabindex", "1", False),
        ("span", "id", "spoiler-text-1", False),
        ("span", "style", "color:red", False),
        ("span", "onclick", "alert(1)", False),
        ("span", "aria-hidden", "true", False),
        ("span", "hidden", "", False),
        ("p", "class", "spoiler", False),
        ("a", "class", "spoiler", False),
        ("a", "tabindex", "0", False),
        ("details", "open", "", False),
        ("button", "onclick", "alert(1)", False),
    ],
)
def test_allowlist_admits_exactly_the_spoiler_attributes(tag, name, value, allowed):
    assert markup._allowed_attribute(tag, name, value) is allowed


def test_only_span_is_added_and_only_for_comments():
    assert "span" in COMMENT_TAGS
    assert not {"details", "summary", "button", "input", "label"} & COMMENT_TAGS
    assert "span" not in markup.ARTICLE_TAGS


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        # Even if something other than the spoiler rule produced these, the
        # sanitizer would keep only the spoiler's own attribute values.
        ('<span class="spoiler x" style="color:red" onclick="a()">t</span>', "<span>t</span>"),
        ('<span tabindex="-1" id="x" hidden>t</span>', "<span>t</span>"),
        ("<details open><summary>s</summary>t</details>", "st"),
        ('<button onclick="a()">t</button>', "t"),
        ('<p class="spoiler" tabindex="0">t</p>', "<p>t</p>"),
    ],
)
def test_sanitizer_strips_anything_beyond_the_spoiler_markup(dirty, clean):
    assert sanitizer(COMMENT_TAGS).clean(dirty) == clean


def test_a_link_title_cannot_imitate_a_spoiler():
    # without_spoilers() finds spoilers by their span tags: "<span" in an
    # attribute value must come out escaped.
    html = render_comment('[x](https://e.org "<span class=spoiler>") ||y|| z')
    assert html.count("<span") == 2
    assert without_spoilers(html, "[spoiler]").endswith("[spoiler] z</p>")


# -- whatever is typed, the markup comes out whole ----------------------------------------

PIECES = [
    "||", "||", "||", "|", "*", "**", "_", "`", "word", " ", " ", "\n", "\n\n", "> ", "- ",
    "[", "](https://e.org)", "https://e.org/x", "<span class=\"spoiler\">", "</span>",
    "<details open>", "\\", "&#124;", "```\n",
]  # fmt: skip
INLINE = {"em", "strong", "code", "a", "br", "span"}


class Tree(HTMLParser):
    """Checks nesting as it goes: every end tag closes the innermost element."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.feed(html)
        self.close()
        assert not self.stack, html

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "br":
            return
        if tag == "span":
            parent = self.stack[-1] if self.stack else ("", {})
            if attrs == {"class": "spoiler", "tabindex": "0"}:
                assert "a" not in (t for t, _ in self.stack), "a spoiler inside a link"
            else:
                assert attrs == {"class": "spoiler-text"}, attrs
                assert parent == ("span", {"class": "spoiler", "tabindex": "0"})
        elif self.stack and self.stack[-1][0] == "span":
            assert tag in INLINE, f"<{tag}> inside a spoiler"
        if self.stack and self.stack[-1] == ("span", {"class": "spoiler", "tabindex": "0"}):
            assert attrs == {"class": "spoiler-text"}, "the outer span holds only the text span"
        self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()


@pytest.mark.parametrize("seed", range(400))
def test_random_sources_give_whole_well_nested_spoilers(seed):
    rng = random.Random(seed)
    source = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25)))
    html = render_comment(normalize(source))
    Tree(html)
    assert html.count("<span") == 2 * html.count(OPEN)
    # Rendering is what is stored: it must not change when cleaned again.
    assert sanitizer(COMMENT_TAGS).clean(html) == html
    assert_bleach_agrees(html)


@pytest.mark.parametrize(
    "source", ["||x|| " * 2000, "a||" * 4000, "||a " * 3000 + "*||" * 3000, "|" * 10_000]
)
def test_a_comment_full_of_pipes_renders_in_reasonable_time(source):
    # A comment is at most 10,000 characters; the cost is about that of
    # as many nested emphases, and the parsing itself stays linear.
    start = time.perf_counter()
    render_comment(source[:10_000])
    assert time.perf_counter() - start < 5
