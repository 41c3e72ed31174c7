"""Bare web addresses ("example.org/x", "https://e.org") in text become links.

markdown-it-py's own linkify option (linkify-it-py) would do this, and takes
time linear in the text, but 15-20 ms for 10,000 characters of "a-a." or
"www.e.org " on this project's machine: half the ceiling for a whole
rendering.  bleach's pattern was as slow as it gets ("a-a." * 2500 took over
20 s).  So the addresses are found here by one regular expression that does
what bleach's did in time linear in the text: 2-3 ms for the same texts.
"""

import re

from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token

from forum.markup.allowlist import is_absolute
from forum.markup.budget import BUDGET, Budget

# The top-level domains an address may end in: the ones bleach linked (country
# codes and the generic domains older than 2012), kept so that the same text
# links the same.  The newer generic ones are left out on purpose: .zip, .mov
# or .app would make links of file names.  (A block of names reads better here
# than 274 quoted strings.)
TLDS = frozenset(
    """
    ac ad ae aero af ag ai al am an ao aq ar arpa as asia at au aw ax az ba bb bd be bf bg
    bh bi biz bj bm bn bo br bs bt bv bw by bz ca cat cc cd cf cg ch ci ck cl cm cn co com
    coop cr cu cv cx cy cz de dj dk dm do dz ec edu ee eg er es et eu fi fj fk fm fo fr ga
    gb gd ge gf gg gh gi gl gm gn gov gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im
    in info int io iq ir is it je jm jo jobs jp ke kg kh ki km kn kp kr kw ky kz la lb lc li
    lk lr ls lt lu lv ly ma mc md me mg mh mil mk ml mm mn mo mobi mp mq mr ms mt mu museum
    mv mw mx my mz na name nc ne net nf ng ni nl no np nr nu nz om org pa pe pf pg ph pk pl
    pm pn post pr pro ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn
    so sr ss st su sv sx sy sz tc td tel tf tg th tj tk tl tm tn to tp tr travel tt tv tw tz
    ua ug uk us uy uz va vc ve vg vi vn vu wf ws xn xxx ye yt yu za zm zw
    """.split()  # noqa: SIM905
)

_DOT_LETTER = re.compile(r"\.[a-z]", re.IGNORECASE)
_WORTH_A_LOOK = re.compile(r"[.&<]")
_SCHEME = re.compile(r"[\w-]+:/{0,3}")  # an address without one is http://


def _trie(words: list[str]) -> str:
    """A regular expression matching exactly these words, shaped as a trie: an
    alternation of top-level domains is tried name after name at every place a
    domain may end; a trie follows one branch per character."""
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
BARE_URL = re.compile(
    r"(?:(?<![\w.@-])-++|(?<!\()\(*+(?<![\w.@-])|(?<=-)(?=https?:))(?=\w)"  # where a word begins
    r"(?:https?:/{0,3}(?:(?:\w++:)?\w++@)?)?"  # http://user@
    r"(?:[\w-]++\.)+(?=[a-z])(?:" + _trie(sorted(TLDS)) + ")"
    r"(?::[0-9]+)?(?!\.\w)\b"  # .tld:port
    r"(?:[/?][^\s{}|\\^`<>\"]*)?",  # /path?query, without what RFC 3986 calls unsafe
    re.IGNORECASE,
)


def bare_addresses(text: str, budget: Budget) -> list[tuple[int, int, str]]:
    """(start, end, href) of each address in text to link, while the budget's
    bare_links last: an address typed without a scheme gets http://, and one
    that is not absolute then ("http:0.org") stays text."""
    # Every address has a "." and a letter, before its top-level domain.
    if budget.bare_links <= 0 or not _DOT_LETTER.search(text):
        return []
    found_all = []
    for found in BARE_URL.finditer(text):
        if budget.bare_links <= 0:
            break
        before, url, _ = _url_parts(found.group())
        href = url if _SCHEME.match(url) else f"http://{url}"
        if not url or not is_absolute(href):
            continue
        start = found.start() + len(before)
        found_all.append((start, start + len(url), href))
        budget.bare_links -= 1
    return found_all


def _url_parts(found: str) -> tuple[str, str, str]:
    """(text before, address, text after) in what BARE_URL found: as bleach's
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


def linkified(text: str, budget: Budget) -> str:
    """text as HTML: escaped, with its bare addresses linked."""
    out, done = [], 0
    for start, end, href in bare_addresses(text, budget):
        out.append(escapeHtml(text[done:start]))
        out.append(_link(href, text[start:end]))
        done = end
    out.append(escapeHtml(text[done:]))
    return "".join(out)


def link_bare_addresses(state: StateCore) -> None:
    """A core rule, after text_join: links the bare addresses in text outside
    links (code is not text).  The sanitizer then gives each link our rel.

    It also undoes a link inside a link ("[<https://a.org> b](https://c.org)"),
    leaving its text in the outer one: a browser, and so the sanitizer, would
    end the outer link where the inner one begins."""
    budget = state.env.get(BUDGET)
    if budget is None:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        # Every address has a "." (typed, or as an entity), and a link inside a
        # link is an autolink ("<"): a block with none of these is passed over.
        # (Past the budget, one has no content.)
        if block.content and not _WORTH_A_LOOK.search(block.content):
            continue
        children: list[Token] = []
        links = 0  # open links: text inside one stays text
        for token in block.children:
            if token.type == "link_open":
                links += 1
                if links > 1:
                    continue
            elif token.type == "link_close":
                links -= 1
                if links:
                    continue
            elif token.type == "text" and not links and "." in token.content:
                children.extend(_linked(token, budget))
                continue
            children.append(token)
        block.children = children


def _linked(token: Token, budget: Budget) -> list[Token]:
    text, level = token.content, token.level
    found = bare_addresses(text, budget)
    if not found:
        return [token]
    out, done = [], 0
    for start, end, href in found:
        if start > done:
            out.append(Token("text", "", 0, content=text[done:start], level=level))
        # One token, not markdown-it's three: a long comment may hold hundreds.
        out.append(
            Token("bare_link", "a", 0, attrs={"href": href}, content=text[start:end], level=level)
        )
        done = end
    if done < len(text):
        out.append(Token("text", "", 0, content=text[done:], level=level))
    return out


def render_bare_link(self, tokens, idx, options, env) -> str:
    return _link(tokens[idx].attrs["href"], tokens[idx].content)


def _link(href: str, text: str) -> str:
    return f'<a href="{escapeHtml(href)}">{escapeHtml(text)}</a>'
