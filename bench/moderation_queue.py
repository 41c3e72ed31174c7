"""Server time of the moderation queue's first page with 10,000 comments pending.

SQLite in a temporary file, Flask's test client, a signed-in moderator.
Run: .venv/bin/python bench/moderation_queue.py [postgresql+psycopg://…]
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from forum import create_app
from forum.extensions import db
from forum.models import CommentStatus, Role
from forum.services.accounts import accounts
from forum.services.discussion import comments, threads

PENDING = 10_000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        urls = [a for a in sys.argv[1:] if not a.startswith("--")]
        url = urls[0] if urls else f"sqlite:///{Path(tmp) / 'queue.sqlite'}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "FORUM_RATELIMIT": "off",
                "FORUM_MAIL_WORKER": "off",
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
            accounts.register("moderator", "mod@example.org", "long password!", Role.MODERATOR)
            authors = [
                accounts.register(f"reader{i}", f"r{i}@example.org", "long password!")
                for i in range(50)
            ]
            thread = threads.save_article("busy", "A busy thread", "Body.").thread
            for i in range(PENDING):
                comments.add_comment(
                    thread,
                    authors[i % 50],
                    None,
                    f"Held comment {i}, waiting for a decision.",
                    CommentStatus.PENDING,
                    hold_reasons=[{"rule": "pre_moderation", "detail": "held"}],
                )
            db.session.commit()
            engine = db.engine
            if engine.dialect.name == "postgresql":
                # What autovacuum does soon after a bulk load: fresh planner statistics
                # and a visibility map, so counts can read an index alone.
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("VACUUM ANALYZE")
        statements = []

        def started(conn, cursor, statement, *args):
            conn.info["started"] = time.perf_counter()

        def finished(conn, cursor, statement, parameters, *args):
            elapsed = (time.perf_counter() - conn.info["started"]) * 1000
            statements.append((elapsed, statement, parameters))

        event.listen(engine, "before_cursor_execute", started)
        event.listen(engine, "after_cursor_execute", finished)
        client = app.test_client()
        client.post("/auth/login", data={"username": "moderator", "password": "long password!"})
        for path in ("/moderation/queue/pending", "/api/v1/moderation/queue/pending"):
            client.get(path)
            timings = []
            for _ in range(20):
                statements.clear()
                start = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            print(
                f"{path:36} {PENDING} pending: median {statistics.median(timings):6.1f} ms, "
                f"p90 {sorted(timings)[17]:6.1f} ms, {len(statements)} SQL statements"
            )
            slowest = max(statements, key=lambda s: s[0])
            print(f"    slowest statement {slowest[0]:.1f} ms: {' '.join(slowest[1].split())[:90]}")
            if "--explain" in sys.argv:
                with engine.connect() as connection:
                    plan = connection.exec_driver_sql("EXPLAIN ANALYZE " + slowest[1], slowest[2])
                    print("\n".join("      " + row[0] for row in plan))
        with app.app_context():
            db.drop_all()


if __name__ == "__main__":
    main()
