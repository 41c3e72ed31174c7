"""Compare the Markdown libraries we considered, on comment-shaped input.

Each library renders with raw HTML disabled; bleach then cleans the result,
exactly as forum.markup does at write time.  Run: .venv/bin/python bench/markdown_libraries.py
"""

import statistics
import timeit
from functools import partial

import bleach

TYPICAL = (
    "I think the **lighthouse keeper** knew all along. Remember the scene in episode 3 "
    "where she *hesitates* before opening the door? That is not a woman surprised by a "
    "visitor.\n\n> She had the key in her hand before he knocked.\n\nAlso the map in the "
    "trailer (https://example.org/trailer at 0:42) shows the island twice:\n\n"
    "1. once in the opening\n2. once behind the clock\n\nMy bet: `season finale` reveals "
    "two timelines."
)
HOSTILE = (
    "<script>alert(1)</script> [x](javascript:alert(1)) **" * 40
    + "\n\n"
    + "* nested\n  * deeper\n    * deeper still `code` _em_\n" * 40
)


def markdown_it():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    return md.render


def mistune3():
    import mistune

    return mistune.create_markdown(escape=True)


def python_markdown():
    import markdown

    md = markdown.Markdown()

    def render(text):
        md.reset()
        # Python-Markdown has no switch to escape raw HTML: the cleaner must do it.
        return md.convert(text)

    return render


def clean(html):
    return bleach.clean(
        html,
        tags={"p", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "br"},
        strip=True,
    )


def render_and_clean(render, text):
    return clean(render(text))


def main():
    for name, factory in [
        ("markdown-it-py", markdown_it),
        ("mistune", mistune3),
        ("Python-Markdown", python_markdown),
    ]:
        render = factory()
        for label, text in [("typical 400 chars", TYPICAL), ("hostile 5 KB", HOSTILE)]:
            runs = timeit.repeat(partial(render, text), number=200, repeat=5)
            md_ms = statistics.median(runs) / 200 * 1000
            runs = timeit.repeat(partial(render_and_clean, render, text), number=200, repeat=5)
            total_ms = statistics.median(runs) / 200 * 1000
            print(f"{name:16} {label:18} render {md_ms:6.3f} ms   render+bleach {total_ms:6.3f} ms")


if __name__ == "__main__":
    main()
