"""Markdown source -> clean HTML.  The only importer of bleach and markdown-it.

Called once when text is written or edited; the result is stored and served
as is.  Raw HTML in the source is never markup: markdown-it escapes it to text,
and _allowlisted then keeps only the allowlisted tags and attributes of what
Markdown produced (the tests hold it to bleach with the same policy).  What any
text may cost to render is bounded: see "what rendering may cost".
"""

import html
import re
import threading
import unicodedata
from functools import cached_property, partial
from html.entities import html5 as html5_entities
from html.parser import HTMLParser

import bleach
from bleach.linkifier import TLDS, LinkifyFilter
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_core.state_core import StateCore
from markdown_it.rules_inline.state_inline import Delimiter, StateInline
from markdown_it.token import Token

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
    # No images yet: ![alt](src) stays a plain link to the picture.  With html off
    # the two html rules match nothing; disabled, they are not even tried.
    md.disable(["image", "html_block", "html_inline"])
    if comment:
        # "# Theory" in a comment stays text rather than losing its "#".
        md.disable(["heading", "lheading", "hr"])
        _spoilers(md)
    _bound_the_work(md)
    return md


# -- what rendering may cost --------------------------------------------------------
#
# A comment is at most 10,000 characters (BODY_MAX in services/comments.py), and
# whatever they are, rendering must take milliseconds.  markdown-it-py 4.3, on
# this project's 2-core machine, spends 3-6 µs wherever it tries its inline rules
# (and on the tokens that makes), 10-15 µs on an emphasis or spoiler delimiter
# (a token per character of a "*" or "_" run), 40-60 µs on a block or a link
# (its URL normaliser).  Prose asks for a try every few dozen characters;
# hostile text ("*a" * 4995, "[a" * 4995, "||a" * 3333, "1. a\n" * 2000) for
# one every character or two, and took 50-200 ms in markdown-it alone.  So each
# rendering has a _Budget of work units, of about 5 µs each, spent as it goes:
#
# * wherever the inline rules are tried, by the character there (_INLINE_UNITS:
#   1 for most, more for delimiters and links); one more each time a link label
#   scan moves on (skipToken);
# * _BLOCK_UNITS for each block begun, at any depth, and _LINK_UNITS more if it
#   starts with "[" (a link reference definition).
#
# Once it is spent, the rest of the paragraph is shown as typed: its Markdown
# characters literal, its line breaks kept (an as_typed token); a block begun
# after that is the rest of its container, as typed.  Likewise past _LINES lines
# (markdown-it's block parser costs 2-5 µs a line before any rule matches) and
# past _BARE_LINKS bare addresses, which then stay text.  A long comment dense
# with emphasis, links, lists and quotes (bench/hostile_markdown.py and the tests
# have one) spends three quarters of the units, and the costliest text costs
# about twice as much as it does.  The allowances are per 10,000 characters
# begun: a long article gets proportionally more, so the work stays linear in
# the length, with a hard bound for any comment.
#
# Two changes keep the work proportional without changing any output: the text
# rule stops only where an enabled rule can start (_STOPS), and a paragraph's
# lines are offered only to the block rules that their first character can
# start (_when_line_starts_with).  And one that changes output, for readers: em,
# strong and spoilers nest at most _INLINE_DEPTH deep, the markers of a deeper
# pair staying as typed; each level of spoiler is another click to reveal.

_BUDGET = "forum.markup.budget"  # its key in markdown-it's env
_PER = 10_000  # characters of source per allowance
_UNITS = 2_400
_LINK_UNITS = 10
_INLINE_UNITS = {"*": 2, "_": 2, "|": 3, "`": 2, "&": 2, "[": _LINK_UNITS, "<": 18}
_BLOCK_UNITS = 10
_LINES = 500
_BARE_LINKS = 200
_INLINE_DEPTH = 8

# markdown-it's text rule stops at every ASCII punctuation character that some
# plugin might want ("$", "~", "!", ":", "=", ...), and at each stop every inline
# rule is tried: "$" * 10_000 took 20-40 ms to make no markup at all.  These are
# the characters our enabled rules start at (newline, escape, backticks, emphasis,
# spoiler, link, autolink, entity), and "]" which ends a link label.
_STOPS = re.compile(r"[\n\\`*_|\[\]<&]")
_RUN = re.compile(r"\*+|_+")
_PAIRED = {"em_open": 1, "strong_open": 1, "spoiler_open": 1}
_PAIRED |= {name.replace("_open", "_close"): -1 for name in _PAIRED}
# What a line must start with for each block rule that can interrupt a paragraph.
_OPENERS = {"fence": "`~", "blockquote": ">", "list": "*-+0123456789"}


class _Budget:
    """The work one rendering may still do (see above)."""

    __slots__ = ("bare_links", "lines", "units")

    def __init__(self, length: int):
        allowances = max(1, -(-length // _PER))
        self.units = _UNITS * allowances
        self.lines = _LINES * allowances
        self.bare_links = _BARE_LINKS * allowances


def _split_after_lines(text: str, count: int) -> tuple[str, str]:
    if text.count("\n") < count:
        return text, ""
    end = -1
    for _ in range(count):
        end = text.find("\n", end + 1)
    return text[:end], text[end + 1 :]


def _paragraph_as_typed(text: str, breaks: bool, budget: _Budget) -> str:
    """Text past the line allowance: escaped and linked, lines kept, no Markdown.
    Written here, not by markdown-it, it is safe without _allowlisted."""
    html = _linkified(text, budget)
    if breaks:
        html = html.replace("\n", "<br>\n")
    return f"<p>{html}</p>"


def _bound_the_work(md: MarkdownIt) -> None:
    md.inline.ruler.at("text", _plain_text)
    md.inline.ruler.before("text", "budget", _inline_budget)
    md.block.ruler.before("table", "budget", _block_budget)
    md.core.ruler.before("text_join", "inline_depth", _inline_depth)
    md.add_render_rule("as_typed", _render_as_typed)
    # Every line of a paragraph or quote is offered to the rules that may end
    # it, each of which logs and checks before looking at the line's first
    # character: 2 µs a line.  Asking only those whose character it is gives the
    # same answers.  (markdown-it-py has no public way to wrap a rule and keep
    # the chains it belongs to, hence __rules__.)
    for rule in md.block.ruler.__rules__:
        if rule.name in _OPENERS:
            fn = _when_line_starts_with(_OPENERS[rule.name], rule.fn)
            md.block.ruler.at(rule.name, fn, {"alt": rule.alt})
    # A link label is scanned with skipToken, which answers repeated positions
    # from a cache without trying any rule: a unit for each, here.  Spent, it
    # jumps to the end of the paragraph as markdown-it's own does past
    # maxNesting, and the label is text.
    skip_token = md.inline.skipToken

    def budgeted_skip_token(state: StateInline) -> None:
        budget = state.env.get(_BUDGET)
        if budget is not None:
            budget.units -= 1
            if budget.units < 0:
                state.pos = state.posMax
                return
        skip_token(state)

    md.inline.skipToken = budgeted_skip_token


def _when_line_starts_with(chars: str, rule):
    def block_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        first = state.bMarks[start] + state.tShift[start]
        if first >= state.eMarks[start] or state.src[first] not in chars:
            return False
        return rule(state, start, end, silent)

    return block_rule


def _plain_text(state: StateInline, silent: bool) -> bool:
    stop = _STOPS.search(state.src, state.pos, state.posMax)
    end = stop.start() if stop else state.posMax
    if end == state.pos:
        return False
    if not silent:
        state.append_pending(state.src[state.pos : end])
    state.pos = end
    return True


def _inline_budget(state: StateInline, silent: bool) -> bool:
    budget = state.env.get(_BUDGET)
    if budget is None:
        return False
    char = state.src[state.pos]
    units = _INLINE_UNITS.get(char, 1)
    if char in "*_":  # a token and a delimiter per character
        units *= _RUN.match(state.src, state.pos).end() - state.pos
    budget.units -= units
    if budget.units >= 0:
        return False
    if not silent:
        state.push("as_typed", "", 0).content = state.src[state.pos : state.posMax]
    state.pos = state.posMax
    return True


def _block_budget(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    budget = state.env.get(_BUDGET)
    if budget is None or silent:
        return False
    first = state.bMarks[start] + state.tShift[start]
    # One starting with "[" may be a link reference definition, as dear as a link.
    budget.units -= _BLOCK_UNITS + _LINK_UNITS * (state.src[first : first + 1] == "[")
    if budget.units >= 0:
        return False
    rest = Token("as_typed", "", 0)
    rest.content = state.getLines(start, end, state.blkIndent, False).strip()
    state.push("paragraph_open", "p", 1)
    # No content of its own: the core inline rule parses "" and keeps this child.
    state.push("inline", "", 0).children = [rest]
    state.push("paragraph_close", "p", -1)
    state.line = end
    return True


def _inline_depth(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[bool] = []  # for each open pair: whether it stays markup
        depth = 0
        for token in block.children:
            change = _PAIRED.get(token.type)
            if change == 1:
                keep = depth < _INLINE_DEPTH
                kept.append(keep)
                depth += keep
            elif change == -1:
                keep = kept.pop() if kept else False
                depth -= keep
            else:
                continue
            if not keep:
                token.type, token.tag, token.nesting = "text", "", 0
                token.content = token.markup


def _render_as_typed(self, tokens, idx, options, env) -> str:
    text = escapeHtml(tokens[idx].content)
    return text.replace("\n", "<br />\n") if options["breaks"] else text


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
# "||" inside link text (a focusable spoiler cannot sit inside a link), and
# spoilers nest at most _INLINE_DEPTH deep (with em and strong), the pipes of a
# deeper one staying as typed: a 200-deep spoiler would take 200 clicks.

_PIPE = 0x7C  # |


def _spoilers(md: MarkdownIt) -> None:
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
        self.tags = tags
        self.md = _markdown(tags)

    def render(self, source: str) -> str:
        budget = _Budget(len(source))
        source, rest = _split_after_lines(source, budget.lines)
        env = {_BUDGET: budget}
        tokens = self.md.parse(source, env)
        rendered = self.md.renderer.render(tokens, self.md.options, env)
        html = _allowlisted(rendered, self.tags, budget)
        if rest.strip():
            tail = _paragraph_as_typed(rest.strip(), self.md.options["breaks"], budget)
            html = f"{html}\n{tail}".lstrip()
        return html

    @cached_property
    def cleaner(self) -> bleach.Cleaner:
        """bleach with this pipeline's policy, for HTML from anywhere else.  render()
        does not need it (see _allowlisted); the tests hold render()'s output to be
        a fixed point of it."""
        return bleach.Cleaner(
            tags=self.tags,
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


# -- the allowlist, over markdown-it's own output -----------------------------------
#
# bleach (html5lib) used to parse the rendered HTML again to clean it: right for
# any HTML, but ~50 µs an element, so 5,000 line breaks or 1,700 spoilers took
# 0.3-0.5 s there alone, and its bare-URL pattern backtracks without bound
# ("a-a." * 2500 took over 20 s).  With html off, markdown-it's renderer writes
# a small regular language: text with & < > " escaped, and the tags of its own
# rules as <name attr="escaped value">, " /" closing a void one.  _allowlisted
# reads exactly that language, in one pass, and keeps
# * a tag only in that shape and on the allowlist: any other tag is dropped (its
#   text stays), and a "<" that starts no such tag is escaped, so nothing else
#   can become markup whatever the renderer wrote;
# * an attribute only if _allowed_attribute admits its unescaped value, an href
#   only with a scheme in PROTOCOLS, and LINK_REL on every link;
# * elements properly nested, and no link inside a link;
# and it links bare web addresses in text outside a, pre and code, as bleach's
# LinkifyFilter did.  The tests hold its output to be a fixed point of bleach
# with the same policy (_Pipeline.cleaner).

_RENDERED_TAG = re.compile(r'<(/?)([a-z][a-z0-9]*)((?: [a-z][a-z-]*="[^"<>]*")*)( /)?>')
_ATTRIBUTE = re.compile(r' ([a-z][a-z-]*)="([^"<>]*)"')
_VOID = frozenset({"br", "hr"})
_CODE = frozenset({"pre", "code"})
_DOT_LETTER = re.compile(r"\.[a-z]", re.IGNORECASE)
_SCHEME = re.compile(r"[\w-]+:/{0,3}")  # an address without one is http://
_ENTITY_AGAIN = re.compile(r"&amp;(#[0-9]*|#[xX][0-9a-fA-F]*|[A-Za-z][A-Za-z0-9]*);")


def _trie(words: list[str]) -> str:
    """A regular expression matching exactly these words, shaped as a trie: an
    alternation of bleach's ~1,500 top-level domains is tried name after name at
    every place a domain may end; a trie follows one branch per character."""
    tree: dict = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        branches = [re.escape(char) + pattern(node[char]) for char in sorted(node) if char]
        if not branches:
            return ""
        either = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{either})?" if "" in node else either

    return pattern(tree)


# Bare web addresses that become links.  It matches what bleach's
# build_url_re(protocols=["http", "https"]) does, changed so that finding them
# all is linear in the text:
# * a match begins only where a word does, or at "http" after a "-", not
#   anywhere inside a hyphenated word or a host: bleach tried again after each
#   "-" of "a-a-a-...", each try scanning the rest of the word.  Hyphens before
#   a word are taken, as text (_url_parts), so "-example.org" still links
#   "example.org";
# * a run of "(" is taken whole, once, rather than tried from each "(";
# * labels and user names are matched possessively (they cannot hold the "."
#   or "@" after them, so nothing is lost), and the top-level domains are a trie.
# What bleach linked and this does not: an address starting at or just after a
# "-" inside a word ("a@b-c.org" linked "-c.org", "x-e.org" links as a whole).
_BARE_URL = re.compile(
    r"(?:(?<![\w.@-])-++|(?<!\()\(*+(?<![\w.@-])|(?<=-)(?=https?:))(?=\w)"  # where a word begins
    r"(?:https?:/{0,3}(?:(?:\w++:)?\w++@)?)?"  # http://user@
    r"(?:[\w-]++\.)+(?=[a-z])(?:" + _trie(sorted({tld.lower() for tld in TLDS})) + ")"
    r"(?::[0-9]+)?(?!\.\w)\b"  # .tld:port
    r"(?:[/?][^\s{}|\\^`<>\"]*)?",  # /path?query, without what RFC 3986 calls unsafe
    re.IGNORECASE,
)


def _allowlisted(rendered: str, tags: frozenset[str], budget: _Budget) -> str:
    # split() gives the text before each tag, then the tag's four groups.
    parts = _RENDERED_TAG.split(rendered)
    out: list[str] = []
    elements: list[tuple[str, bool]] = []  # those open, and whether each is kept
    links = code = 0  # open a elements, open pre and code elements
    start_tags: dict[tuple[str, str], str] = {}  # the same tags recur: made once
    for i in range(0, len(parts) - 1, 5):
        text = parts[i]
        if text:
            out.append(_text_between_tags(text, links, code, budget))
        closing, name, attributes, void = parts[i + 1], parts[i + 2], parts[i + 3], parts[i + 4]
        if closing:
            if attributes or void or not elements or elements[-1][0] != name:
                continue  # not one markdown-it writes: dropped
            kept = elements.pop()[1]
            if name == "a":
                links -= 1
            elif name in _CODE:
                code -= 1
            if kept:
                out.append(f"</{name}>")
            continue
        keep = name in tags and not (links and name == "a")
        if keep:
            start = start_tags.get((name, attributes))
            if start is None:
                start = start_tags[name, attributes] = _start_tag(name, attributes)
            out.append(start)
        if void or name in _VOID:
            continue
        elements.append((name, keep))
        if name == "a":
            links += 1
        elif name in _CODE:
            code += 1
    out.append(_text_between_tags(parts[-1], links, code, budget))
    out.extend(f"</{name}>" for name, kept in reversed(elements) if kept)
    return "".join(out).strip()


def _start_tag(name: str, attributes: str) -> str:
    kept: dict[str, str] = {}
    for attribute, escaped in _ATTRIBUTE.findall(attributes):
        value = _unescape(escaped)
        if attribute in kept or not _allowed_attribute(name, attribute, value):
            continue
        if attribute == "href" and value.strip().split(":", 1)[0].lower() not in PROTOCOLS:
            continue
        kept[attribute] = value
    if name == "a" and "href" in kept:
        kept["rel"] = LINK_REL
    return f"<{name}{''.join(f' {k}={_quoted(v)}' for k, v in kept.items())}>"


def _quoted(value: str) -> str:
    return f'"{escapeHtml(value)}"'


def _unescape(escaped: str) -> str:
    """Undoes markdown-it's escapeHtml ("&amp;lt;" is "&lt;" as typed)."""
    if "&" not in escaped:
        return escaped
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
        escaped = escaped.replace(entity, char)
    return escaped


def _text_between_tags(escaped: str, links: int, code: int, budget: _Budget) -> str:
    """Text as markdown-it escaped it, with bare addresses linked outside links
    and code."""
    if "<" in escaped or ">" in escaped:
        pass  # not markdown-it's: escaped below
    elif links or code or "." not in escaped:
        return escaped if code or "&amp;" not in escaped else _entities_again(escaped)
    text = _unescape(escaped)
    if not links and not code:
        return _linkified(text, budget)
    escaped = escapeHtml(text)
    return escaped if code else _entities_again(escaped)


def _linkified(text: str, budget: _Budget) -> str:
    # Every address has a "." and a letter, before its top-level domain.
    if budget.bare_links <= 0 or not _DOT_LETTER.search(text):
        return _entities_again(escapeHtml(text))
    out, done = [], 0
    for found in _BARE_URL.finditer(text):
        if budget.bare_links <= 0:
            break
        before, url, _ = _url_parts(found.group())
        href = url if _SCHEME.match(url) else f"http://{url}"
        if not url or not _is_absolute(href):
            continue  # "http:0.org" stays text
        start = found.start() + len(before)
        out.append(_entities_again(escapeHtml(text[done:start])))
        url_text = _entities_again(escapeHtml(url))
        out.append(f'<a href={_quoted(href)} rel="{LINK_REL}">{url_text}</a>')
        done = start + len(url)
        budget.bare_links -= 1
    out.append(_entities_again(escapeHtml(text[done:])))
    return "".join(out)


def _entities_again(escaped: str) -> str:
    """What bleach did, kept so that stored comments read the same and the output
    stays a fixed point of it: outside code, an "&" typed before an entity's name
    ("&amp;copy;" or "\\&#124;" in the source) made that entity after all."""
    if "&amp;" not in escaped:
        return escaped
    return _ENTITY_AGAIN.sub(_entity_again, escaped)


def _entity_again(found: re.Match) -> str:
    name = found.group(1)
    return f"&{name};" if name[0] == "#" or f"{name};" in html5_entities else found.group()


def _url_parts(found: str) -> tuple[str, str, str]:
    """(text before, address, text after) in what _BARE_URL found: as bleach's
    LinkifyFilter has it, parentheses around the address and a ")" without a "("
    are not part of it, nor a "," or "." at its end; nor hyphens before it."""
    start, end = len(found) - len(found.lstrip("-")), len(found)
    opening = found.find("(", start)  # the first "(" in found[start:], or -1
    while start < end:
        if found[start] == "(":
            start += 1
            if end > start and found[end - 1] == ")":
                end -= 1
            opening = found.find("(", start)
        elif found[end - 1] in ",." or (found[end - 1] == ")" and not 0 <= opening < end):
            end -= 1
        else:
            break
    return found[:start], found[start:end], found[end:]


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
