"""What the costliest comments cost to render: hostile Markdown at the longest a
comment may be, beside an ordinary comment of the same length.

Each body is what the API would store (comments.check_body: normalized, at most
BODY_MAX characters) and is rendered --repeat times by render_comment, as a
comment is when it is written.  Prints the median and the slowest time for each,
wall clock and this process's CPU time (on a busy machine the wall clock also
counts other processes' turns), and exits 1 if the worst median (wall clock)
passes the ceiling.  The counted, deterministic version of these limits is
tests/unit/test_markup_cost.py.

Run: .venv/bin/python bench/hostile_markdown.py [--repeat 40] [--ceiling-ms 30]
"""

import argparse
import statistics
import sys
import time

from forum.markup import render_comment
from forum.services.discussion.comments import BODY_MAX, check_body


def at_most_a_comment(unit: str) -> str:
    return check_body((unit * (BODY_MAX // len(unit) + 1))[:BODY_MAX])


def ordinary_comment() -> str:
    """A long comment as readers write them: prose with some emphasis, links,
    code, a spoiler, quotes and a list."""
    paragraphs = [
        "I went back to the **second episode** after reading this, and the clock in the "
        "hallway really does stop at *quarter past* every time she walks by. That can't be "
        "an accident, not with a production this careful.",
        "> She had the key in her hand before he knocked.\n> Nobody remarks on it, ever.",
        "What I keep coming back to is the map in the trailer "
        "(https://example.org/trailer at 0:42): the island is drawn twice, once in the "
        "corner and once behind the `season finale` title card. Compare the [production "
        "notes](https://example.org/notes/island-maps) if you have not read them yet.",
        "My guesses, roughly in order of confidence:\n\n- the keeper knew all along\n"
        "- the letters are from the *other* timeline\n- the storm is a reset, not a storm",
        "If I'm right, the last scene is ||her reading the first letter to herself||, "
        "which would explain why @marta's theory about the lighthouse never quite fit.",
    ]
    text, i = [], 0
    while sum(map(len, text)) < BODY_MAX:
        text.append(paragraphs[i % len(paragraphs)])
        i += 1
    return check_body("\n\n".join(text)[:BODY_MAX])


BODIES = {
    # The security review's.
    "||a * 3333 (spoilers)": at_most_a_comment("||a"),
    "*a * 4995 (emphasis)": at_most_a_comment("*a"),
    "*_ * 4995 (emphasis)": at_most_a_comment("*_"),
    "<& * 4995 (escaped html)": at_most_a_comment("<&"),
    "```\\n * 2497 (fences)": at_most_a_comment("```\n"),
    # Found since.
    "||a  then a|| (nested spoilers)": check_body("||a " * 1250 + "a|| " * 1250),
    "*|| * 3333": at_most_a_comment("*||"),
    "[a * 4995 (link labels)": at_most_a_comment("[a"),
    "[a](b  * 1666 (link attempts)": at_most_a_comment("[a](b "),
    "<https://a.org> * 666 (autolinks)": at_most_a_comment("<https://a.org>"),
    "[a]: https://e.org\\n * 526": at_most_a_comment("[a]: https://e.org\n"),
    "`a * 4995 (code spans)": at_most_a_comment("`a"),
    "***a * 2500": at_most_a_comment("***a"),
    "&#x41; * 1666 (entities)": at_most_a_comment("&#x41;"),
    "\\ * 10000 (escapes)": at_most_a_comment("\\"),
    "] * 10000": at_most_a_comment("]"),
    "a\\n * 4995 (line breaks)": at_most_a_comment("a\n"),
    "a\\n\\n * 3333 (paragraphs)": at_most_a_comment("a\n\n"),
    "- a\\n * 2500 (list items)": at_most_a_comment("- a\n"),
    "1. a\\n * 2000 (list items)": at_most_a_comment("1. a\n"),
    "> a\\n * 2500 (quoted lines)": at_most_a_comment("> a\n"),
    "19 nested quotes * 250": at_most_a_comment("> " * 19 + "a\n"),
    "a-a. * 2500 (bare address)": at_most_a_comment("a-a."),
    "a- * 5000 (bare address)": at_most_a_comment("a-"),
    "www.e.org  * 1000 (bare addresses)": at_most_a_comment("www.e.org "),
    "@name  * 1666 (mentions)": at_most_a_comment("@name "),
    "ordinary comment": ordinary_comment(),
}


def timings(body: str, repeat: int) -> tuple[list[float], list[float]]:
    render_comment(body)  # the pipeline made, its caches warm
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        render_comment(body)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--ceiling-ms", type=float, default=30.0)
    args = parser.parse_args()

    print(f"render_comment, {args.repeat} runs each; ms")
    print(f"{'body':36} {'chars':>6} {'median':>7} {'max':>7} {'cpu med':>8}")
    worst_name, worst = "", 0.0
    for name, body in BODIES.items():
        wall, cpu = timings(body, args.repeat)
        median = statistics.median(wall)
        print(
            f"{name:36} {len(body):6} {median:7.1f} {max(wall):7.1f} {statistics.median(cpu):8.1f}",
            flush=True,
        )
        if median > worst:
            worst_name, worst = name, median
    print(f"worst median: {worst:.1f} ms ({worst_name}); ceiling {args.ceiling_ms:g} ms")
    return 1 if worst > args.ceiling_ms else 0


if __name__ == "__main__":
    sys.exit(main())
