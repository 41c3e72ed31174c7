"""The words search sees: what is indexed for a comment, what a query asks for,
and where a result's words are marked.

Both databases index the same thing, a comment's words made plain here, so that
SQLite's FTS5 and PostgreSQL's text search find the same comments:

- a word is a run of letters and digits (Unicode categories L and N); everything
  else, punctuation, symbols and spacing marks, separates words;
- case is folded and accents dropped ("Café" and "cafe" are one word), by
  Unicode compatibility decomposition with the combining marks left out (so
  Arabic without its vowel marks matches Arabic with them, and full-width Latin
  matches Latin);
- Chinese characters, hiragana and katakana are each a word of their own: those
  scripts put no spaces between words, and neither FTS5's unicode61 tokenizer
  nor PostgreSQL's parser can tell where a Japanese word ends.  A query's run of
  them is then asked for as a phrase, character after character, so "東京"
  finds "東京タワー" and not a text holding 東 and 京 apart.

The stored form is those words, space-separated: both engines split it exactly
there and lower-case nothing further (FTS5 runs with remove_diacritics 0,
PostgreSQL with the 'simple' configuration, no stemming, no stop words).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from forum.markup.text import _TextOnly, without_spoilers

# A word longer than this is cut: PostgreSQL refuses words over 2,047 bytes.
WORD_MAX = 100
# The text indexed per comment: far past the longest comment (10,000 characters).
INDEXED_MAX = 60_000


_SEPARATOR, _LETTERS, _MARK, _ALONE = range(4)


@lru_cache(maxsize=8192)
def _fold(char: str) -> tuple[int, str]:
    """A character as search sees it: what kind it is, and its folded letters."""
    if _own_word(char):
        return _ALONE, unicodedata.normalize("NFKC", char)
    if unicodedata.category(char) in ("Mn", "Me"):
        return _MARK, ""  # an accent or other combining mark: dropped, the word goes on
    folded = unicodedata.normalize("NFKD", char.casefold())
    letters = "".join(c for c in folded if unicodedata.category(c)[0] in "LN").lower()
    if not letters:
        return _SEPARATOR, ""
    if _own_word(letters[0]):
        return _ALONE, letters  # half-width katakana, widened
    return _LETTERS, letters


def _own_word(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x31F0 <= code <= 0x31FF  # katakana extensions
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions B and later
    )


def words(text: str) -> list[tuple[int, int, str]]:
    """The words of plain text as (start, end, folded word), in order; start and
    end index text."""
    found: list[tuple[int, int, str]] = []
    start, current = 0, []
    for index, char in enumerate(text):
        kind, letters = _fold(char)
        if kind == _LETTERS:
            if not current:
                start = index
            current.append(letters)
        elif kind == _MARK:
            continue
        else:
            if current:
                found.append((start, index, "".join(current)[:WORD_MAX]))
                current = []
            if kind == _ALONE:
                found.append((index, index + 1, letters))
    if current:
        found.append((start, len(text), "".join(current)[:WORD_MAX]))
    return found


def plain_text(clean_html: str) -> str:
    """All the text of stored HTML, inline spoilers included, blocks apart."""
    parser = _TextOnly()
    parser.feed(clean_html)
    parser.close()
    return "".join(parser.parts)


def indexed_text(clean_html: str, title: str | None = None) -> str:
    """What the search index holds for a comment: the words of its theory title
    and its text, folded, space-separated (see the module's docstring).

    Inline spoilers are indexed too: a search shows readers only the words they
    typed, never what a spoiler covers (excerpt() leaves spoilers out), and
    moderators find what is hidden in one."""
    text = plain_text(clean_html or "")
    if title:
        text = f"{title}\n{text}"
    return " ".join(word for _s, _e, word in words(text))[:INDEXED_MAX]


# -- queries --------------------------------------------------------------------------

_QUOTED = re.compile(r'"([^"]*)"|(\S+)')


def query_terms(query: str) -> list[list[str]]:
    """A query's terms, each the list of its folded words: a "quoted phrase" is
    one term, and so is any other run of non-spaces ("tide-tables" is the phrase
    tide tables; "東京" the phrase 東 京).  Terms without a word are left out."""
    terms = []
    for quoted, bare in _QUOTED.findall(query or ""):
        found = [word for _s, _e, word in words(quoted or bare)]
        if found:
            terms.append(found)
    return terms


# A term's last word also matches longer words starting with it ("spoil" finds
# "spoilers") when it is at least this long and not a character word.
PREFIX_MIN = 3


def is_prefix(word: str) -> bool:
    return len(word) >= PREFIX_MIN and not _own_word(word[0])


# -- marking what matched -----------------------------------------------------------


def _matched(found: list[tuple[int, int, str]], terms: list[list[str]]) -> list[bool]:
    """Which of these words belong to an occurrence of a term (its words in a row)."""
    marked = [False] * len(found)
    texts = [word for _s, _e, word in found]
    for term in terms:
        size = len(term)
        for first in range(len(texts) - size + 1):
            if all(
                texts[first + n] == want
                or (n == size - 1 and is_prefix(want) and texts[first + n].startswith(want))
                for n, want in enumerate(term)
            ):
                for n in range(size):
                    marked[first + n] = True
    return marked


def _marked_spans(text: str, terms: list[list[str]]) -> list[tuple[int, int]]:
    """(start, end) of each run of matched words in text, neighbours merged when
    only spaces part them."""
    found = words(text)
    spans: list[tuple[int, int]] = []
    for (start, end, _w), hit in zip(found, _matched(found, terms), strict=True):
        if not hit:
            continue
        if spans and not text[spans[-1][1] : start].strip():
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


_SPOILER = "\ue000"  # stands for a spoiler while an excerpt is cut; never typed here
EXCERPT_LENGTH = 240


def excerpt(clean_html: str, terms: list[list[str]], spoiler: str, limit=EXCERPT_LENGTH) -> str:
    """HTML: about limit characters of a comment's text around the first place its
    terms match, each match in <mark>, inline spoilers shown as spoiler (plain
    text: the caller's words in the reader's language), everything else escaped."""
    text = " ".join(plain_text(without_spoilers(clean_html, _SPOILER)).split())
    spans = _marked_spans(text, terms)
    begin = 0
    if spans and spans[0][0] > limit // 3:
        begin = text.rfind(" ", 0, spans[0][0] - limit // 3) + 1
    end = len(text)
    if end - begin > limit:
        end = text.rfind(" ", begin, begin + limit)
        if end <= begin:
            end = begin + limit
    out = ["…"] if begin else []
    position = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        out.append(_escape(text[position:start], spoiler))
        out.append(f"<mark>{_escape(text[start:stop], spoiler)}</mark>")
        position = stop
    out.append(_escape(text[position:end], spoiler))
    if end < len(text):
        out.append("…")
    return "".join(out)


def _escape(text: str, spoiler: str) -> str:
    return html.escape(text, quote=False).replace(_SPOILER, html.escape(spoiler, quote=False))


_TAG_OR_ENTITY = re.compile(r"(<[^>]*>|&#?\w+;)")


def mark(clean_html: str, terms: list[list[str]]) -> str:
    """Stored HTML with each match of these terms in <mark>, for moderators (who
    see spoilers uncovered).  Only text between tags is touched, and clean_html
    must be forum.markup's own output, whose text escapes every "<", ">" and "&";
    entities are left whole.  A phrase split by a tag (<em>) is not marked."""
    if not terms or not clean_html:
        return clean_html
    parts = _TAG_OR_ENTITY.split(clean_html)
    for index in range(0, len(parts), 2):  # even indexes are text
        text = parts[index]
        spans = _marked_spans(text, terms) if text.strip() else []
        if not spans:
            continue
        pieces, position = [], 0
        for start, stop in spans:
            pieces += [text[position:start], "<mark>", text[start:stop], "</mark>"]
            position = stop
        pieces.append(text[position:])
        parts[index] = "".join(pieces)
    return "".join(parts)
