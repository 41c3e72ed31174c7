"""The two thread readers side by side: SQL statements and time to read a page.

The API reads whole trees as row tuples (thread_pages.load_page); the HTML pages
read ORM Comments (trees.load_page), with replies collapsed.  No HTTP and no page
cache: the readers' own cost, on a temporary SQLite file.
Run: PYTHONPATH=. .venv/bin/python bench/readers.py
"""

import random
import statistics
import tempfile
import time
from pathlib import Path

from flask_login import AnonymousUserMixin
from sqlalchemy import event

from forum import create_app
from forum.extensions import db
from forum.models import CommentStatus, Thread
from forum.services.accounts import accounts
from forum.services.discussion import comments, thread_pages, threads, trees

SIZES = (100, 1000, 2000)
ANONYMOUS = AnonymousUserMixin()
READERS = {
    "rows, whole trees (API)": lambda t: thread_pages.load_page(t, ANONYMOUS, "oldest", 1000, None),
    "ORM, whole trees": lambda t: trees.load_page(t, ANONYMOUS, "oldest", 1000, None),
    "ORM, 3 replies shown (pages)": lambda t: trees.load_page(
        t, ANONYMOUS, "oldest", 1000, None, 3
    ),
}


def build(size: int, author) -> int:
    thread = threads.save_article(f"thread-{size}", f"{size} comments", "Body.").thread
    rng = random.Random(size)
    made = []
    for i in range(size):
        parent = rng.choice(made) if made and i % 10 else None
        body = f"Comment {i}: a typical reader's thought with *some* emphasis and a link "
        body += "https://example.org/a to follow."
        made.append(comments.add_comment(thread, author, parent, body, CommentStatus.APPROVED))
    return thread.id


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            author = accounts.register("bencher", "bench@example.org", "long password!")
            ids = {size: build(size, author) for size in SIZES}
            db.session.commit()
            statements = []
            event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))
            print(f"{'reader':32} {'comments':>8} {'SQL':>4} {'median ms':>10}")
            for name, read in READERS.items():
                for size, thread_id in ids.items():
                    timings = []
                    for _ in range(7):
                        db.session.expire_all()
                        thread = db.session.get(Thread, thread_id)
                        statements.clear()
                        start = time.perf_counter()
                        read(thread)
                        timings.append(time.perf_counter() - start)
                    median = statistics.median(timings) * 1000
                    print(f"{name:32} {size:8} {len(statements):4} {median:10.1f}")


if __name__ == "__main__":
    main()
