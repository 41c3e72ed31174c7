"""Inline spoilers: ||hidden text|| in a comment.

Stored markup:
    <span class="spoiler" tabindex="0"><span class="spoiler-text">…</span></span>

Why spans and not <details>: a spoiler sits inside a sentence, and <details> is
flow content that cannot be inside <p> (a parser closes the paragraph at it).
Spans are phrasing content, valid wherever the spoiler appears, and may hold
the inline markup around them (emphasis, code, links).  Without JavaScript the
CSS conceals .spoiler-text (display: none, so screen readers skip it too) behind
a "Spoiler" bar; the outer span is focusable, so a click or Tab reveals it for
as long as focus stays within (:focus-within).  static/js/spoilers.js replaces
that with a real disclosure button (aria-expanded) beside the text, so the
stored HTML never holds a <button>, and links inside a spoiler stay valid.

Parsing follows markdown-it's own emphasis-like pairs: "||" runs are delimiters
inside one paragraph's inline content, so code spans, autolinks and escapes
keep their "||" literal, an unmatched "||" stays text, and a spoiler never
spans paragraphs.  A run of one or three or more pipes is plain text, as is
"||" inside link text (a focusable spoiler cannot sit inside a link), and
spoilers nest at most 8 deep (with em and strong; budget.py), the pipes of a
deeper one staying as typed: a 200-deep spoiler would take 200 clicks.
"""

from markdown_it import MarkdownIt
from markdown_it.rules_inline.state_inline import Delimiter, StateInline

_PIPE = 0x7C  # |


def spoilers(md: MarkdownIt) -> None:
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
