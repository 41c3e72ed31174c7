"""The sanitizer, as a table of inputs and the exact HTML they become, plus a
hostile corpus that must never yield live markup."""

from html.parser import HTMLParser

import pytest

from forum.markup import normalize, render_article, render_comment

REL = 'rel="nofollow ugc noopener"'

CASES = [
    ("plain words", "<p>plain words</p>"),
    ("**bold** and *em*", "<p><strong>bold</strong> and <em>em</em></p>"),
    ("`x < y`", "<p><code>x &lt; y</code></p>"),
    ("```\nif a < b:\n```", "<pre><code>if a &lt; b:\n</code></pre>"),
    ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
    ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
    ("3. three", '<ol start="3">\n<li>three</li>\n</ol>'),
    ("line one\nline two", "<p>line one<br>\nline two</p>"),
    (
        "[site](https://example.org/a?b=1)",
        f'<p><a href="https://example.org/a?b=1" {REL}>site</a></p>',
    ),
    ('[t](https://e.org "Title")', f'<p><a href="https://e.org" title="Title" {REL}>t</a></p>'),
    (
        "see https://example.org/x",
        f'<p>see <a href="https://example.org/x" {REL}>https://example.org/x</a></p>',
    ),
    ("www.example.org", f'<p><a href="http://www.example.org" {REL}>www.example.org</a></p>'),
    ("[mail](mailto:a@example.org)", f'<p><a href="mailto:a@example.org" {REL}>mail</a></p>'),
    ("`https://example.org`", "<p><code>https://example.org</code></p>"),
    # A link inside a link is undone, its text kept in the outer one.
    (
        "[<https://a.org> b](https://c.org)",
        f'<p><a href="https://c.org" {REL}>https://a.org b</a></p>',
    ),
    # Headings and rules are not comment markup: the text stays as typed.
    ("# Big", "<p># Big</p>"),
    ("---", "<p>---</p>"),
    # No images yet: the picture becomes a link to it.
    ("![alt](https://e.org/p.png)", f'<p>!<a href="https://e.org/p.png" {REL}>alt</a></p>'),
    # Only http, https and mailto survive, and only absolute links: the sanitizer
    # (nh3) drops the href and, as on every link, sets our rel.
    ("[f](ftp://e.org)", f"<p><a {REL}>f</a></p>"),
    ("[r](/relative)", f"<p><a {REL}>r</a></p>"),
    ("[h](https:foo)", f"<p><a {REL}>h</a></p>"),
    # Raw HTML is never markup: it is shown as the text that was typed.
    ("<b>hi</b>", "<p>&lt;b&gt;hi&lt;/b&gt;</p>"),
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    # Inline spoilers (more in test_spoilers_markup.py); imitating them in HTML is text.
    (
        "it was ||the keeper||",
        '<p>it was <span class="spoiler" tabindex="0"><span class="spoiler-text">'
        "the keeper</span></span></p>",
    ),
    # Quotes in text need no escaping; "<" and ">" always are.
    ('<span class="spoiler">x</span>', '<p>&lt;span class="spoiler"&gt;x&lt;/span&gt;</p>'),
    # An "&" typed before an entity's name stays as typed (bleach used to make
    # the entity of it).
    (r"\&copy; &amp;lt;", "<p>&amp;copy; &amp;lt;</p>"),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_renders_exactly(source, expected):
    assert render_comment(source) == expected


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>*{x:expression(alert(1))}</style>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<!--<img src=--><img src=x onerror=alert(1)//>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;script:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](java%0ascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    "[x](//evil.example/path)",
    "<javascript:alert(1)>",
    '<https://e.org/"onmouseover="alert(1)>',
    '[x](https://e.org/"onmouseover="alert(1))',
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](https://e.org/p.png)',
    "javascript:alert(1)",
    "http://e.org/<script>alert(1)</script>",
    "`<script>alert(1)</script>`",
    "<<script>script>alert(1)<</script>/script>",
    "\x00<script>alert(1)</script>",
    "<scr\x00ipt>alert(1)</scr\x00ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    # Zero-padded decimal entities spelling "javascript:".
    '<a href="' + "".join(f"&#{ord(c):07d}" for c in "javascript:") + 'alert(1)">x</a>',
]

ALLOWED = {
    "p": set(),
    "em": set(),
    "strong": set(),
    "code": set(),
    "pre": set(),
    "blockquote": set(),
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "br": set(),
    "a": {"href", "title", "rel"},
}


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input_never_becomes_live_markup(source):
    html = render_comment(normalize(source))
    for tag, attributes in Elements(html).found:
        assert tag in ALLOWED, html
        assert set(attributes) <= ALLOWED[tag], html
        if "href" in attributes:
            href = attributes["href"]
            assert href.startswith(("http://", "https://", "mailto:")), html
            assert attributes["rel"] == "nofollow ugc noopener", html


# The only spans a comment can hold: the two of an inline spoiler, exactly so.
SPOILER_SPANS = [{"class": "spoiler", "tabindex": "0"}, {"class": "spoiler-text"}]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input_inside_a_spoiler_never_becomes_live_markup(source):
    html = render_comment(normalize(f"||{source}||"))
    for tag, attributes in Elements(html).found:
        if tag == "span":
            assert attributes in SPOILER_SPANS, html
            continue
        assert tag in ALLOWED, html
        assert set(attributes) <= ALLOWED[tag], html
        if "href" in attributes:
            assert attributes["href"].startswith(("http://", "https://", "mailto:")), html
            assert attributes["rel"] == "nofollow ugc noopener", html


def test_rendering_its_own_output_as_text_is_stable():
    # Escaped output fed back in stays inert text (no double-unescaping into tags).
    once = render_comment("<b>x</b>")
    assert "<b>" not in render_comment(once)


def test_articles_may_use_headings_but_not_scripts():
    html = render_article("## Part two\n\ntext\n\n<script>x</script>")
    assert "<h2>Part two</h2>" in html
    assert "<script" not in html


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  padded  ", "padded"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("nul\x00byte", "nulbyte"),
        ("bell\x07 and \x9b csi", "bell and  csi"),
        ("tab\tkept", "tab\tkept"),
        ("e\u0301", "\u00e9"),  # NFC
    ],
)
def test_normalize(raw, clean):
    assert normalize(raw) == clean
