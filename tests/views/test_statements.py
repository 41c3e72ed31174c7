"""Reading a thread costs the same number of SQL statements at any size."""

import random

import pytest

from forum.extensions import db
from forum.models import CommentStatus, User
from forum.services.discussion import comments, threads
from tests.conftest import count_statements


def build_thread(app, slug: str, total: int, author_id: int) -> None:
    """total comments: a tenth top-level, the rest replies at random depths."""
    rng = random.Random(total)
    with app.app_context():
        thread = threads.thread_by_key(slug)
        author = db.session.get(User, author_id)
        made = []
        for i in range(total):
            parent = rng.choice(made) if made and i % 10 else None
            made.append(
                comments.add_comment(thread, author, parent, f"comment {i}", CommentStatus.APPROVED)
            )
        db.session.commit()


@pytest.fixture
def two_threads(app, make, reader):
    make.article("small")
    make.article("large")
    build_thread(app, "small", 10, reader.id)
    build_thread(app, "large", 1000, reader.id)


PATHS = [
    "/api/v1/threads/{}/comments?limit=1000",
    "/api/v1/threads/{}/comments?sort=top&limit=1000",
    "/articles/{}",
    "/articles/{}?sort=newest",
]


def test_statement_count_does_not_grow_with_the_thread(app, two_threads, client, reader_client):
    # One thread build serves every case (building 1,000 comments is the slow part).
    for signed_in, http in ((False, client), (True, reader_client)):
        for path in PATHS:
            counts = {}
            for slug in ("small", "large"):
                with count_statements(app) as seen:
                    response = http.get(path.format(slug))
                assert response.status_code == 200
                counts[slug] = len(seen)
            case = f"{path} signed_in={signed_in}: {counts}"
            assert counts["small"] == counts["large"], case
            # thread (with its article), the page's roots, their trees, and on the
            # HTML page the Editors' picks; signed in: the session's user, and on
            # the HTML page the reader's own votes, mutes and whether they follow
            html_page = "api" not in path
            expected = 3 + html_page + signed_in * (1 + 3 * html_page)
            assert counts["large"] == expected, case
            if "api" in path:
                assert len(response.json["comments"]) == 100  # every top-level comment


def test_large_thread_api_carries_all_thousand_comments(app, two_threads, client):
    data = client.get("/api/v1/threads/large/comments?limit=1000").json
    total, stack = 0, list(data["comments"])
    while stack:
        node = stack.pop()
        total += 1
        stack.extend(node["replies"])
    assert total == 1000
    assert data["thread"]["comment_count"] == 1000
