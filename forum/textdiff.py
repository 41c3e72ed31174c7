"""What changed between two texts, word by word, as escaped HTML: removed words
in <del>, added ones in <ins>.  Pure functions; nothing here imports forum.

Why not difflib: SequenceMatcher's time grows with the cube of a text's repeated
tokens.  An edit of a comment of 500 dots took it 4 seconds, of 1,000 dots 41
(autojunk off; autojunk on spoils the diff of ordinary prose and still took 3
seconds on 4,000 words cycling through 100).  Myers' algorithm below finds the
shortest edit in O((N+M)·D) and stops at EDIT_LIMIT edits: the same comments of
dots take 0.03-0.2 seconds, and a rewrite past the limit shows as the old words
removed and the new ones added (by lines first, if that is within the limit).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# Words with the spaces after them, and each other character with its spaces:
# "the <del>red </del><ins>blue </ins>door".
_WORDS = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")
_LINES = re.compile(r"[^\n]*\n|[^\n]+")
EDIT_LIMIT = 400  # tokens removed plus tokens added, after which a diff gives up


def word_diff(before: str, after: str, removed_label: str, added_label: str) -> Markup:
    """before -> after as escaped text; each <del> and <ins> starts with its label
    in a visually hidden span, since screen readers say nothing of those tags."""
    removed = Markup('<del><span class="visually-hidden">{}</span>{}</del>')
    added = Markup('<ins><span class="visually-hidden">{}</span>{}</ins>')
    parts: list[Markup] = []
    for tag, old, new in changes(before, after):
        if tag == "equal":
            parts.append(escape(old))
            continue
        if old:
            parts.append(removed.format(removed_label, old))
        if new:
            parts.append(added.format(added_label, new))
    return Markup("").join(parts)


def changes(before: str, after: str) -> list[tuple[str, str, str]]:
    """(tag, old text, new text) runs: "equal" ones, and "change" ones where
    old was replaced by new (either may be empty)."""
    for pattern in (_WORDS, _LINES):
        a, b = pattern.findall(before), pattern.findall(after)
        script = edit_script(a, b, EDIT_LIMIT)
        if script is not None:
            return _runs(script, a, b)
    return [("change", before, after)] if before != after else [("equal", before, after)]


def _runs(script, a, b) -> list[tuple[str, str, str]]:
    runs: list[tuple[str, str, str]] = []
    for tag, i1, i2, j1, j2 in script:
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            runs.append(("equal", old, new))
        elif runs and runs[-1][0] == "change":
            _, was_old, was_new = runs[-1]
            runs[-1] = ("change", was_old + old, was_new + new)
        else:
            runs.append(("change", old, new))
    return runs


def edit_script(a: list, b: list, limit: int) -> list[list] | None:
    """The shortest edit turning a into b (Myers 1986), as difflib-style opcodes
    [tag, i1, i2, j1, j2] with tags equal, delete and insert; None when it takes
    more than `limit` deletions and insertions."""
    n, m = len(a), len(b)
    v = {1: 0}
    trace = []
    for d in range(min(n + m, limit) + 1):
        trace.append(dict(v))
        for k in range(-d, d + 1, 2):
            # Down from diagonal k+1 (an insertion) or right from k-1 (a deletion).
            down = k == -d or (k != d and v[k - 1] < v[k + 1])
            x = v[k + 1] if down else v[k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            v[k] = x
            if x >= n and y >= m:
                return _opcodes(_moves(trace, n, m))
    return None


def _moves(trace: list[dict], n: int, m: int) -> list[str]:
    """Walk the furthest points back from the end: "=", "-" and "+" in order."""
    x, y = n, m
    moves = []
    for d in range(len(trace) - 1, -1, -1):
        v = trace[d]
        k = x - y
        down = k == -d or (k != d and v.get(k - 1, -1) < v.get(k + 1, -1))
        previous = k + 1 if down else k - 1
        px = v.get(previous, 0) if d else 0
        py = px - previous if d else 0
        while x > px and y > py:
            x, y = x - 1, y - 1
            moves.append("=")
        if d:
            moves.append("+" if x == px else "-")
        x, y = px, py
    return moves[::-1]


def _opcodes(moves: list[str]) -> list[list]:
    tags = {"=": "equal", "-": "delete", "+": "insert"}
    codes: list[list] = []
    i = j = 0
    for move in moves:
        tag = tags[move]
        ni, nj = i + (move != "+"), j + (move != "-")
        if codes and codes[-1][0] == tag:
            codes[-1][2], codes[-1][4] = ni, nj
        else:
            codes.append([tag, i, ni, j, nj])
        i, j = ni, nj
    return codes
