"""Identicons: /avatars/<username>.svg and forum.identicon."""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from forum import identicon
from tests.conftest import count_statements

SVG = "{http://www.w3.org/2000/svg}"


def _luminance(hex_colour: str) -> float:
    # WCAG 2, written out again here rather than trusting the module's own copy.
    def linear(c):
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_avatar_is_an_svg_with_long_cache_headers(client):
    response = client.get("/avatars/alice.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    cache = response.headers["Cache-Control"]
    assert "public" in cache
    max_age = int(re.search(r"max-age=(\d+)", cache).group(1))
    assert max_age >= 24 * 3600
    assert response.headers["ETag"]
    assert "Set-Cookie" not in response.headers


def test_a_repeat_request_with_the_etag_is_304(client):
    first = client.get("/avatars/alice.svg")
    again = client.get("/avatars/alice.svg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    other = client.get("/avatars/bob.svg", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_the_same_name_gets_the_same_picture_in_every_process(client):
    # Browsers and shared caches keep avatars for a year: a picture that depended on
    # the process (Python's per-process string hashing, say) would differ between
    # gunicorn workers and after every restart.
    served = client.get("/avatars/alice.svg").data.decode()
    program = "from forum import identicon; print(identicon.svg('alice'), end='')"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        other = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        assert other.stdout == served


def test_differs_between_users(client):
    assert client.get("/avatars/alice.svg").data != client.get("/avatars/bob.svg").data
    names = [f"reader{n}" for n in range(300)]
    shapes = {tuple(identicon.cells(name)) for name in names}
    colours = {identicon.colour(name) for name in names}
    pictures = {identicon.svg(name) for name in names}
    assert len(pictures) == len(names)
    assert len(shapes) > 250 and len(colours) > 250


def test_case_insensitive(client):
    lower = client.get("/avatars/alice.svg")
    for name in ("Alice", "ALICE", "aLiCe"):
        response = client.get(f"/avatars/{name}.svg")
        assert response.data == lower.data
        assert response.headers["ETag"] == lower.headers["ETag"]


@pytest.mark.parametrize("name", ["alice", "Bob_the-builder", "x" * 30, "a-_", "123"])
def test_valid_svg_of_shapes_only(client, name):
    response = client.get(f"/avatars/{name}.svg")
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox")
    for element in root.iter():
        # Shapes only: no text, title, style, script, image, link or foreign content.
        assert element.tag in (f"{SVG}svg", f"{SVG}path")
        assert not (element.text or "").strip() and not (element.tail or "").strip()
        for attribute, value in element.attrib.items():
            assert attribute in ("viewBox", "width", "height", "shape-rendering", "fill", "d")
            assert "url(" not in value and ":" not in value
    path = root.find(f"{SVG}path")
    assert re.fullmatch(r"#[0-9a-f]{6}", path.get("fill"))
    assert re.fullmatch(r"(M\d \dh\dv1h-\dz)+", path.get("d"))
    # No user text at all, in any case.
    assert name.lower().encode() not in response.data.lower()


def test_the_grid_is_mirrored_and_never_empty():
    for n in range(500):
        cells = set(identicon.cells(f"someone{n}"))
        assert len(cells) >= identicon.MIN_CELLS
        assert all(0 <= col < 5 and 0 <= row < 5 for col, row in cells)
        assert all((4 - col, row) in cells for col, row in cells)


def test_the_colour_reads_on_light_and_dark_backgrounds():
    # The site's backgrounds and surfaces (static/css/forum.css), light and dark,
    # and plain white and black: 3:1 is WCAG's minimum for graphics.
    backgrounds = ["#ffffff", "#fdfcfa", "#fff4c2", "#15171a", "#1d2024", "#3b3417", "#000000"]
    for n in range(1000):
        colour = identicon.colour(f"reader{n}")
        assert min(_contrast(colour, bg) for bg in backgrounds) >= 3, colour


def test_any_well_formed_name_gets_one_without_touching_the_database(app, client, make):
    make.user("alice")
    with count_statements(app) as seen:
        existing = client.get("/avatars/alice.svg")
        missing = client.get("/avatars/nobody-here.svg")
    # Existing and unknown names look alike, so the URL cannot probe for accounts.
    assert existing.status_code == missing.status_code == 200
    assert existing.headers["Cache-Control"] == missing.headers["Cache-Control"]
    assert seen == []


@pytest.mark.parametrize(
    "path",
    [
        "/avatars/ab.svg",  # too short
        "/avatars/" + "x" * 31 + ".svg",  # too long
        "/avatars/a.b.svg",
        "/avatars/bad%20name.svg",
        "/avatars/%C3%A9t%C3%A9.svg",
        "/avatars/al%00ice.svg",
        "/avatars/%3Cscript%3E.svg",
        "/avatars/alice",
        "/avatars/alice.png",
        "/avatars/.svg",
    ],
)
def test_bad_names_are_404(client, path):
    assert client.get(path).status_code == 404
