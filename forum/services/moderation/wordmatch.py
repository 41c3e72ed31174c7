"""Find listed words and phrases in text, the way a determined spammer writes them.

Matching is case-insensitive, whole-word and Unicode-aware, and sees through
simple disguises: accents, letters stretched out ("spaaam"), a word spelled out
with punctuation ("s.p.a.m"), digits and symbols standing in for letters
("$p4m"), and Cyrillic or Greek letters that look Latin.  Words are split at
punctuation too, so "buy-viagra" and "viagra's" find "viagra" while "he'll"
does not find "hell".  Stretched letters count only as a run of three or more,
so a listed "ass" does not find "as", but does find "asss".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from forum.markup.text import LATIN_LOOKALIKES

# Characters that stand in for Latin letters (forum.markup's table, shared with
# the names guests may not take), with 1 and ! read as i here.
_LOOKALIKES = str.maketrans({**LATIN_LOOKALIKES, "1": "i", "!": "i", "|": "l"})
_REPEATS = re.compile(r"(.)\1+")
_LONG_RUN = re.compile(r"(.)\1\1")
_SEPARATORS = re.compile(r"[^\w]+|_+")
# Sentence punctuation around a word is not part of it ("spam!" is "spam"), even
# where the same character stands in for a letter inside one ("sp!m").
_EDGES = re.compile(r"^[\"'(\[«¿¡“‘]+|[\"'.,;:!?)\]»…”’]+$")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_LOOKALIKES)


def tokens(word: str) -> list[str]:
    """The disguise-free words inside one whitespace-separated word."""
    parts = [p for p in _SEPARATORS.split(_plain(_EDGES.sub("", word))) if p]
    if len(parts) > 2 and all(len(p) == 1 for p in parts):
        return ["".join(parts)]  # spelled out: s.p.a.m
    return parts


@dataclass(frozen=True)
class Match:
    entry: str  # the list entry that matched
    found: str  # the words as written in the text


def _collapse(token: str) -> str:
    return _REPEATS.sub(r"\1", token)


def _same(token: str, entry_token: str) -> bool:
    if token == entry_token:
        return True
    return bool(_LONG_RUN.search(token)) and _collapse(token) == _collapse(entry_token)


class WordList:
    """A list of words and phrases, compiled once, matched against any text."""

    def __init__(self, entries):
        self.entries: dict[tuple[str, ...], str] = {}
        for entry in entries:
            key = tuple(t for word in entry.split() for t in tokens(word))
            if key:
                self.entries[key] = entry.strip()
        self.by_collapsed = {tuple(map(_collapse, key)): key for key in self.entries}
        self.longest = max((len(key) for key in self.entries), default=0)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def _lookup(self, window: tuple[str, ...]) -> str | None:
        if window in self.entries:
            return self.entries[window]
        key = self.by_collapsed.get(tuple(map(_collapse, window)))
        if key is not None and all(map(_same, window, key)):
            return self.entries[key]
        return None

    def find(self, text: str) -> list[Match]:
        """Every entry found in text, in order of appearance, each once."""
        if not self.entries:
            return []
        # (token, index of the whitespace word it came from)
        raw = text.split()
        stream = [(t, i) for i, word in enumerate(raw) for t in tokens(word)]
        found, seen = [], set()
        for start in range(len(stream)):
            for length in range(1, min(self.longest, len(stream) - start) + 1):
                window = stream[start : start + length]
                entry = self._lookup(tuple(t for t, _ in window))
                if entry is not None and entry not in seen:
                    seen.add(entry)
                    first, last = window[0][1], window[-1][1]
                    found.append(Match(entry, " ".join(raw[first : last + 1])))
        return found
