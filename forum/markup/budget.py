"""What rendering may cost: a work budget per rendering, spent by markdown-it's rules.

A comment is at most 10,000 characters (BODY_MAX in services/comments.py), and
whatever they are, rendering must take milliseconds.  markdown-it-py 4.3, on
this project's 2-core machine, spends 3-6 µs wherever it tries its inline rules
(and on the tokens that makes), 10-15 µs on an emphasis or spoiler delimiter
(a token per character of a "*" or "_" run), 40-60 µs on a block or a link
(its URL normaliser).  Prose asks for a try every few dozen characters;
hostile text ("*a" * 4995, "[a" * 4995, "||a" * 3333, "1. a\\n" * 2000) for
one every character or two, and took 50-200 ms in markdown-it alone.  So each
rendering has a Budget of work units, of about 5 µs each, spent as it goes:

* wherever the inline rules are tried, by the character there (_INLINE_UNITS:
  1 for most, more for delimiters and links); one more each time a link label
  scan moves on (skipToken);
* _BLOCK_UNITS for each block begun, at any depth, and _LINK_UNITS more if it
  starts with "[" (a link reference definition).

Once it is spent, the rest of the paragraph is shown as typed: its Markdown
characters literal, its line breaks kept (an as_typed token); a block begun
after that is the rest of its container, as typed.  Likewise past _LINES lines
(markdown-it's block parser costs 2-5 µs a line before any rule matches) and
past _BARE_LINKS bare addresses (linkify.py), which then stay text.  A long
comment dense with emphasis, links, lists and quotes (bench/hostile_markdown.py
and the tests have one) spends three quarters of the units, and the costliest
text costs about twice as much as it does.  The allowances are per 10,000
characters begun: a long article gets proportionally more, so the work stays
linear in the length, with a hard bound for any comment.

Two changes keep the work proportional without changing any output: the text
rule stops only where an enabled rule can start (_STOPS), and a paragraph's
lines are offered only to the block rules that their first character can
start (_when_line_starts_with).  And one that changes output, for readers: em,
strong and spoilers nest at most _INLINE_DEPTH deep, the markers of a deeper
pair staying as typed; each level of spoiler is another click to reveal.
"""

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_core.state_core import StateCore
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token

BUDGET = "forum.markup.budget"  # its key in markdown-it's env
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


class Budget:
    """The work one rendering may still do (see above)."""

    __slots__ = ("bare_links", "lines", "units")

    def __init__(self, length: int):
        allowances = max(1, -(-length // _PER))
        self.units = _UNITS * allowances
        self.lines = _LINES * allowances
        self.bare_links = _BARE_LINKS * allowances


def split_after_lines(text: str, count: int) -> tuple[str, str]:
    """(the first count lines, the rest)."""
    if text.count("\n") < count:
        return text, ""
    end = -1
    for _ in range(count):
        end = text.find("\n", end + 1)
    return text[:end], text[end + 1 :]


def bound_the_work(md: MarkdownIt) -> None:
    md.inline.ruler.at("text", _plain_text)
    md.inline.ruler.before("text", "budget", _inline_budget)
    md.block.ruler.before("table", "budget", _block_budget)
    md.core.ruler.before("text_join", "inline_depth", _inline_depth)
    md.core.ruler.before("text_join", "as_typed", _as_typed_text)
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
        budget = state.env.get(BUDGET)
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
    budget = state.env.get(BUDGET)
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
    budget = state.env.get(BUDGET)
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


def _as_typed_text(state: StateCore) -> None:
    """Text past the budget becomes text and line breaks, as typed: text_join then
    joins it to the text before it, and bare addresses in it are linked."""
    budget = state.env.get(BUDGET)
    if budget is None or budget.units >= 0:
        return  # nothing was left as typed
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if not any(token.type == "as_typed" for token in block.children):
            continue
        children: list[Token] = []
        for token in block.children:
            if token.type != "as_typed":
                children.append(token)
                continue
            for number, line in enumerate(token.content.split("\n")):
                if number:
                    children.append(Token("softbreak", "br", 0, level=token.level))
                if line:
                    children.append(Token("text", "", 0, content=line, level=token.level))
        block.children = children
