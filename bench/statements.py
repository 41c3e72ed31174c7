"""SQL statements and server time to read a thread, at several sizes.

Runs the real app on a temporary SQLite file through Flask's test client (no
network), so the numbers are the application's own cost.
Run: .venv/bin/python bench/statements.py
"""

import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from forum import create_app
from forum.extensions import db
from forum.models import CommentStatus
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

SIZES = (10, 100, 1000, 2000)
PATHS = ("/api/v1/threads/{}/comments?limit=1000", "/articles/{}")


def build(size: int, author) -> str:
    slug = f"thread-{size}"
    thread = threads.save_article(slug, f"{size} comments", "Body.").thread
    rng = random.Random(size)
    made = []
    for i in range(size):
        parent = rng.choice(made) if made and i % 10 else None
        body = f"Comment {i}: a typical reader's thought with *some* emphasis and a link "
        body += "https://example.org/a to follow."
        made.append(comments.add_comment(thread, author, parent, body, CommentStatus.APPROVED))
    return slug


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "FORUM_RATELIMIT": "off"}
        )
        with app.app_context():
            db.create_all()
            author = accounts.register("bencher", "bench@example.org", "long password!")
            slugs = {size: build(size, author) for size in SIZES}
            db.session.commit()
            engine = db.engine
        statements = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
        client = app.test_client()
        print(f"{'request':44} {'comments':>8} {'SQL':>4} {'median ms':>10} {'µs/comment':>11}")
        for path in PATHS:
            for size, slug in slugs.items():
                target = path.format(slug)
                client.get(target)  # warm up
                timings = []
                for _ in range(15):
                    statements.clear()
                    start = time.perf_counter()
                    response = client.get(target)
                    timings.append(time.perf_counter() - start)
                    assert response.status_code == 200
                median = statistics.median(timings) * 1000
                print(
                    f"{target:44} {size:8} {len(statements):4} {median:10.2f} "
                    f"{median * 1000 / size:11.1f}"
                )


if __name__ == "__main__":
    main()
