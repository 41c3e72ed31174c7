"""Text in and out: the stored form of what is typed, and plain text, spoiler-free
HTML and highlighted HTML made from what render.py stored."""

import html
import re
import unicodedata
from html.parser import HTMLParser

# C0/C1 control characters other than tab and newlines: invisible, and NUL is
# refused outright by PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_SURROGATE = re.compile(r"[\ud800-\udfff]")  # valid in JSON, not in UTF-8


def normalize(text: str) -> str:
    """The form in which user text is stored: NFC, no control characters, lone
    surrogates replaced, Unix newlines, no surrounding whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", text)
    # Controls go before NFC: one between a letter and its accent would otherwise
    # keep them apart through NFC and leave decomposed text once it is dropped.
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    return text.strip()


# Characters that pass for Latin letters: Cyrillic and Greek capitals and
# small letters drawn alike, Latin variants (dotless i, alpha, long s), digits
# and signs. Names are compared through it (name_key); moderators' word lists
# see through the same disguises (forum.services.moderation.wordmatch).
LATIN_LOOKALIKES = {
    # Cyrillic (after case folding)
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i",
    "ї": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ь": "b",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u",
    "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ς": "s", "ω": "w",
    # Latin variants
    "ı": "i", "ɑ": "a", "ɡ": "g", "ſ": "s", "ɩ": "i", "ɪ": "i", "ʟ": "l", "ᴀ": "a", "ᴄ": "c",
    "ᴏ": "o", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z",
    # digits and signs
    "0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
    "@": "a", "$": "s", "€": "e", "£": "l",
}  # fmt: skip
# For names, the letters a reader cannot tell apart in many fonts are one:
# i, l, 1, | and ! (and what passes for them).
_NAME_LOOKALIKES = str.maketrans(
    {**LATIN_LOOKALIKES, "1": "l", "i": "l", "|": "l", "!": "l", "ı": "l", "і": "l",
     "ї": "l", "ι": "l", "ɩ": "l", "ɪ": "l", "ʟ": "l"}
)  # fmt: skip
_NOT_ALNUM = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """What a display name is compared by, so that a guest cannot pass for a
    reader: accents dropped, case folded, look-alikes merged (Cyrillic "а" and
    Latin "a", "I", "l" and "1", "rn" and "m"), only letters and digits kept
    ("Zoë_Q!" and "zoe q1" both give "zoeql")."""
    folded = unicodedata.normalize("NFKD", name or "").casefold()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    folded = _NOT_ALNUM.sub("", folded.translate(_NAME_LOOKALIKES))
    return folded.replace("rn", "m").replace("vv", "w")[:50]


_TAG = re.compile(r"(<[^>]*>)")


def highlight(clean_html: str, words: list[str]) -> str:
    """Wrap each occurrence of these words in <mark>, for moderators.

    clean_html must be this module's own output: only its text between tags is
    touched (the sanitizer escapes every "<" and ">" in text and attribute
    values), and the words are escaped before they are looked for.
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


def spoiler_free_text(clean_html: str, limit: int = 500, placeholder: str = "[spoiler]") -> str:
    """Plain text of stored HTML with each inline spoiler shown as placeholder
    (plain text: the caller's words for it in the reader's language)."""
    return excerpt(without_spoilers(clean_html, html.escape(placeholder)), limit)
