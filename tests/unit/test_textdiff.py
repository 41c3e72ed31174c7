"""forum.textdiff: the shortest word diff, escaped, and quick on any input."""

import random
import time

import pytest

from forum import textdiff


def lcs_length(a, b) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b):
            diagonal, row[j + 1] = row[j + 1], diagonal + 1 if x == y else max(row[j], row[j + 1])
    return row[-1]


def test_edit_scripts_are_shortest_and_rebuild_both_sides():
    rng = random.Random(16)
    for _ in range(2000):
        a = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        b = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        script = textdiff.edit_script(a, b, 100)
        old, new, edits = [], [], 0
        for tag, i1, i2, j1, j2 in script:
            if tag == "equal":
                assert a[i1:i2] == b[j1:j2]
                old += a[i1:i2]
                new += b[j1:j2]
            elif tag == "delete":
                old += a[i1:i2]
                edits += i2 - i1
            else:
                new += b[j1:j2]
                edits += j2 - j1
        assert (old, new) == (a, b)
        assert edits == len(a) + len(b) - 2 * lcs_length(a, b)


def test_past_the_limit_there_is_no_script():
    assert textdiff.edit_script(list("aaaa"), list("bbbb"), 7) is None
    assert textdiff.edit_script(list("aaaa"), list("bbbb"), 8) is not None


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            "The red door opens.",
            "The blue door opens, slowly.",
            "The <del>red </del><ins>blue </ins>door opens<ins>, slowly</ins>.",
        ),
        ("same words", "same words", "same words"),
        ("", "new", "<ins>new</ins>"),
        ("old", "", "<del>old</del>"),
        # Nothing a reader wrote becomes markup.
        ("a <b>x</b>", 'a <img src=x onerror="y">', None),
    ],
)
def test_word_diff_marks_what_changed_and_escapes_the_rest(before, after, expected):
    html = str(textdiff.word_diff(before, after, "", ""))
    plain = html.replace('<span class="visually-hidden"></span>', "")
    if expected is not None:
        assert plain == expected
    assert "<b>" not in html and "<img" not in html
    assert "&lt;" in html or "<" not in before + after


def test_screen_readers_hear_which_words_went_and_came():
    html = str(textdiff.word_diff("one two", "one three", "[removed:] ", "[added:] "))
    assert '<del><span class="visually-hidden">[removed:] </span>two</del>' in html
    assert '<ins><span class="visually-hidden">[added:] </span>three</ins>' in html


def test_a_rewrite_past_the_limit_is_diffed_by_lines_then_whole():
    before = "keep this line\n" + " ".join(f"w{i}" for i in range(500)) + "\n"
    after = "keep this line\n" + " ".join(f"v{i}" for i in range(500)) + "\n"
    runs = textdiff.changes(before, after)
    assert runs[0] == ("equal", "keep this line\n", "keep this line\n")
    assert runs[1][0] == "change" and runs[1][1].startswith("w0 ")
    whole = textdiff.changes("x\n" * 300 + "y", "z\n" * 300)
    assert whole == [("change", "x\n" * 300 + "y", "z\n" * 300)]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("." * 10_000, ".," * 5_000),  # difflib: minutes
        (
            " ".join(f"w{i % 100}" for i in range(4_000)),
            " ".join(f"w{i * 7 % 100}" for i in range(4_000)),
        ),
        ("ab" * 5_000, "ba" * 5_000),
        ("x" * 10_000, "x" * 9_999 + "y"),
    ],
)
def test_any_edit_of_the_longest_comment_is_diffed_quickly(before, after):
    started = time.perf_counter()
    textdiff.word_diff(before, after, "-", "+")
    assert time.perf_counter() - started < 1.5
