"""The benchmark's threads, generated once from a seed and loaded into our
database and Isso's with the same text, authors, nesting and times.

Everything lands in bench/.work/data-v<VERSION>-<schema key>/ and is reused while
both are unchanged: bump VERSION whenever the generator or the loading changes;
the key follows forum/models.py and forum/markup/.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from speedlib import text

VERSION = 1
SIZES = (100, 500, 2000, 20000)
# Top-level comments per thread. Our API pages by top-level comment (at most
# 1,000 a request), so even the biggest thread comes back whole from one request.
ROOTS = {100: 30, 500: 120, 2000: 400, 20000: 1000}
START = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)  # the episode aired; comments follow
SPREAD_SECONDS = 3 * 24 * 3600
MAX_DEPTH = 12
PASSWORD = "bench password"


def slug(size: int) -> str:
    return f"bench-{size}"


def generate_thread(size: int) -> list[dict]:
    """Comments in posting order: parent and root as indexes into the list."""
    rng = random.Random(f"lantern-house-v{VERSION}-{size}")
    root_at = {0, *rng.sample(range(1, size), ROOTS[size] - 1)}
    weights = [1 / (k + 1) for k in range(len(text.AUTHOR_NAMES))]  # a few regulars
    comments: list[dict] = []
    roots: list[int] = []
    trees: dict[int, list[int]] = {}
    offset = 0.0
    for i in range(size):
        offset += rng.expovariate(size / SPREAD_SECONDS)
        author = rng.choices(range(len(text.AUTHOR_NAMES)), weights)[0]
        parent = root = None
        if i not in root_at:
            # Recent conversations draw most replies; some revive older ones.
            root = rng.choice(roots[-8:]) if rng.random() < 0.6 else rng.choice(roots)
            tree = trees[root]
            if rng.random() < 0.35:
                parent = root
            else:
                shallow = [c for c in tree[-15:] if comments[c]["depth"] < MAX_DEPTH]
                parent = rng.choice(shallow or [root])
        quoted = text.first_line(comments[parent]["body"]) if parent is not None else None
        comments.append(
            {
                "parent": parent,
                "root": root,
                "depth": comments[parent]["depth"] + 1 if parent is not None else 0,
                "author": author,
                "body": text.comment(rng, quoted),
                "offset": round(offset, 3),
            }
        )
        if root is None:
            roots.append(i)
            trees[i] = [i]
        else:
            trees[root].append(i)
    return comments


def generate() -> dict:
    return {
        "version": VERSION,
        "start": START.timestamp(),
        "authors": list(text.AUTHOR_NAMES),
        "threads": [
            {
                "slug": slug(size),
                "title": f"The Lantern House, season 3: discussion ({size:,} comments)",
                "comments": generate_thread(size),
            }
            for size in SIZES
        ],
    }


def forum_overrides(url: str) -> dict:
    """create_app() settings for building: cheap Argon2, nothing in the background."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "FORUM_RATELIMIT": "off",
        "FORUM_MAIL_WORKER": "off",
        "FORUM_CACHE": "off",
        "FORUM_ARGON2_TIME_COST": 1,
        "FORUM_ARGON2_MEMORY_KIB": 1024,  # as the tests do
    }


def build_forum(url: str, data: dict) -> None:
    """Our schema and the threads, through the services as an import would."""
    from forum import create_app
    from forum.extensions import db
    from forum.models import CommentStatus, User
    from forum.services.accounts import accounts
    from forum.services.discussion import comments, threads

    app = create_app(forum_overrides(url))
    with app.app_context():
        db.create_all()
        users = [
            accounts.register(name, f"{name}@example.org", PASSWORD) for name in data["authors"]
        ]
        for user in users:
            user.created_at = START - timedelta(days=400)
        start = datetime.fromtimestamp(data["start"], UTC)
        for spec in data["threads"]:
            thread = threads.save_article(
                spec["slug"], spec["title"], "Spoilers for the whole season below."
            ).thread
            made = []
            for c in spec["comments"]:
                parent = made[c["parent"]] if c["parent"] is not None else None
                made.append(
                    comments.add_comment(
                        thread,
                        users[c["author"]],
                        parent,
                        c["body"],
                        CommentStatus.APPROVED,
                        created_at=start + timedelta(seconds=c["offset"]),
                    )
                )
            db.session.commit()
            # A fresh identity map for the next thread; the authors are loaded again.
            ids = [u.id for u in users]
            db.session.expunge_all()
            users = [db.session.get(User, i) for i in ids]
        db.engine.dispose()


def ensure(work: Path, isso_python: Path | None, log=print) -> Path:
    """The directory with dataset.json, forum.sqlite and isso.sqlite, built if missing."""
    from speedlib import isso_setup

    target = work / f"data-v{VERSION}-{_schema_key()}"
    if (target / "complete").exists():
        log(f"dataset: reusing {target}")
    else:
        for old in work.glob("data-v*"):  # another version or schema: 60 MB each
            shutil.rmtree(old, ignore_errors=True)
        _build(target, log)
    if isso_python is not None and not (target / "isso.sqlite").exists():
        began = time.monotonic()
        partial = target / "isso.sqlite.partial"
        partial.unlink(missing_ok=True)
        isso_setup.load(isso_python, target / "dataset.json", partial)
        partial.rename(target / "isso.sqlite")
        log(f"dataset: loaded Isso's database in {time.monotonic() - began:.1f} s")
    return target


def _schema_key() -> str:
    """Our database is built at one commit and served at later ones: rebuild it when
    the models (the schema) or the Markdown rendering (the stored HTML) change."""
    import forum

    package = Path(forum.__file__).parent
    digest = hashlib.sha256()
    for path in [package / "models.py", *sorted((package / "markup").glob("*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _build(target: Path, log) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    began = time.monotonic()
    data = generate()
    (target / "dataset.json").write_text(json.dumps(data))
    counted = sum(len(t["comments"]) for t in data["threads"])
    log(f"dataset: generated {counted:,} comments in {time.monotonic() - began:.1f} s")
    began = time.monotonic()
    build_forum(f"sqlite:///{target / 'forum.sqlite'}", data)
    log(f"dataset: loaded our SQLite database in {time.monotonic() - began:.1f} s")
    (target / "complete").write_text(datetime.now(UTC).isoformat())
