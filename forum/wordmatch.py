"""Find listed words and phrases in text, the way a determined spammer writes them.

Matching is case-insensitive, whole-word and Unicode-aware, and sees through
simple disguises: accents, repeated letters ("spaaam"), punctuation inside a
word ("s.p.a.m"), digits and symbols standing in for letters ("$p4m"), and
Cyrillic or Greek letters that look Latin.  Both the text and the list are
reduced to the same skeleton, so a listed "good" also matches "god": the price
of collapsing repeated letters, and the reason lists should hold distinctive words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters that stand in for Latin letters.
_LOOKALIKES = str.maketrans(
    {
        "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
        "@": "a", "$": "s", "!": "i", "|": "l", "€": "e", "£": "l",
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ς": "s",
    }
)  # fmt: skip
_REPEATS = re.compile(r"(.)\1+")
# Sentence punctuation around a word is not part of it ("spam!" is "spam"), even
# where the same character stands in for a letter inside one ("sp!m").
_EDGES = re.compile(r"^[\"'(\[«¿¡“‘]+|[\"'.,;:!?)\]»…”’]+$")


def skeleton(word: str) -> str:
    """The disguise-free form of one whitespace-separated word."""
    word = _EDGES.sub("", word)
    word = unicodedata.normalize("NFKD", word.casefold())
    word = "".join(ch for ch in word if not unicodedata.combining(ch))
    word = word.translate(_LOOKALIKES)
    word = "".join(ch for ch in word if ch.isalnum())
    return _REPEATS.sub(r"\1", word)


@dataclass(frozen=True)
class Match:
    entry: str  # the list entry that matched
    found: str  # the words as written in the text


class WordList:
    """A list of words and phrases, compiled once, matched against any text."""

    def __init__(self, entries):
        self.entries: dict[tuple[str, ...], str] = {}
        for entry in entries:
            key = tuple(filter(None, (skeleton(w) for w in entry.split())))
            if key:
                self.entries[key] = entry.strip()
        self.longest = max((len(key) for key in self.entries), default=0)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def find(self, text: str) -> list[Match]:
        """Every entry found in text, in order of appearance, each once."""
        if not self.entries:
            return []
        raw = text.split()
        words = [skeleton(w) for w in raw]
        # Drop words that were only punctuation, keeping each skeleton's original.
        kept = [(s, w) for s, w in zip(words, raw, strict=True) if s]
        found, seen = [], set()
        for start in range(len(kept)):
            for length in range(1, min(self.longest, len(kept) - start) + 1):
                key = tuple(s for s, _ in kept[start : start + length])
                entry = self.entries.get(key)
                if entry is not None and entry not in seen:
                    seen.add(entry)
                    found.append(Match(entry, " ".join(w for _, w in kept[start : start + length])))
        return found
