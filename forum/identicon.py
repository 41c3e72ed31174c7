"""Identicons: a username -> a small deterministic SVG avatar.

Pure: no database, no request, no third-party service.  The picture is a 5x5
grid mirrored left to right (so it reads as a shape, not noise), drawn from the
SHA-256 of the lower-cased username, in one colour also taken from the hash.
The colour's lightness is solved for a fixed relative luminance, which keeps it
at least 3:1 (WCAG's contrast for graphics) against the site's light and dark
backgrounds alike; the background is transparent.

The SVG holds shapes only: no text, no style element or attribute, no script, no
reference to anything outside itself, so it works under the site's CSP whether
served from /avatars/ or inlined as a data: URI.
"""

from __future__ import annotations

import colorsys
import hashlib

GRID = 5
SIZE = 64  # intrinsic size in CSS pixels; templates may scale it
# Relative luminance of the colour: sqrt(1.05 * 0.064) - 0.05, the point of equal
# contrast (about 4:1) against white and the dark theme's surface (#1d2024).
TARGET_LUMINANCE = 0.21
MIN_CELLS = 3  # fewer filled cells than this and the grid is inverted


def digest(username: str) -> bytes:
    return hashlib.sha256(username.lower().encode("utf-8", "surrogatepass")).digest()


def cells(username: str) -> list[tuple[int, int]]:
    """The filled (column, row) cells, row by row."""
    half = (GRID + 1) // 2  # columns 0..2; 3 and 4 mirror 1 and 0
    bits = int.from_bytes(digest(username)[:4], "big")
    pattern = [[bool(bits >> (row * half + col) & 1) for col in range(half)] for row in range(GRID)]
    if sum(map(sum, pattern)) < MIN_CELLS:
        pattern = [[not on for on in row] for row in pattern]
    filled = []
    for row in range(GRID):
        for col in range(GRID):
            if pattern[row][min(col, GRID - 1 - col)]:
                filled.append((col, row))
    return filled


def colour(username: str) -> str:
    """The colour as #rrggbb: hue and saturation from the hash, the lightness
    solved for TARGET_LUMINANCE."""
    raw = digest(username)
    hue = int.from_bytes(raw[4:6], "big") / 65536
    saturation = 0.45 + 0.35 * raw[6] / 255
    low, high = 0.0, 1.0
    for _ in range(30):  # luminance rises with lightness at a fixed hue and saturation
        middle = (low + high) / 2
        luminance = relative_luminance(_to_hex(colorsys.hls_to_rgb(hue, middle, saturation)))
        if luminance < TARGET_LUMINANCE:
            low = middle
        else:
            high = middle
    return _to_hex(colorsys.hls_to_rgb(hue, (low + high) / 2, saturation))


def svg(username: str) -> str:
    """The avatar as an SVG document (shapes only)."""
    rows: dict[int, list[int]] = {}
    for col, row in cells(username):
        rows.setdefault(row, []).append(col)
    runs = []  # each horizontal run of filled cells as one closed subpath
    for row, columns in rows.items():
        start = columns[0]
        for left, right in zip(columns, [*columns[1:], None], strict=True):
            if right != left + 1:
                width = left - start + 1
                runs.append(f"M{start} {row}h{width}v1h-{width}z")
                start = right
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-0.5 -0.5 6 6" '
        f'width="{SIZE}" height="{SIZE}" shape-rendering="crispEdges">'
        f'<path fill="{colour(username)}" d="{"".join(runs)}"/></svg>'
    )


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of "#rrggbb"."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)
