"""Many workers on one thread at once: gunicorn with 4 sync workers on the
suite's database (a WAL SQLite file by default, PostgreSQL with
FORUM_TEST_DATABASE_URL), and client threads posting, replying, re-sending
idempotency keys, editing, voting, flagging and moderating the same thread.
Afterwards the database must agree with every answer: nothing lost, nothing
twice, every counter equal to the rows it counts, and no 5xx.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter, defaultdict

from sqlalchemy import create_engine, text

from forum.services.discussion.votes import wilson_rank
from tests.live_server import Gunicorn, is_postgres, live_config, scratch_database, seed

READERS = 6
MODERATORS = 2
OPERATIONS = 40  # per client thread
BUDGET = 20  # seconds: on a slow machine clients stop early rather than run long
PATH = "/api/v1/threads/live-story/comments"
# What each kind of request may answer besides success: races lost politely.
ALLOWED = {
    "post": {201, 200},
    "reply": {201, 200, 422},  # 422: the parent was removed by a moderator meanwhile
    "edit": {200, 403, 409},  # 403: moderated since; 409: changed under us
    "vote": {200, 403, 404, 409},  # 403/404: hidden or held since it was picked
    "flag": {201, 403, 404, 409},  # 409: flagged already
    "moderate": {200, 409},  # 409: another moderator (or the state) got there first
}


class Run:
    """Every answer, and what the clients know so far."""

    def __init__(self, server: Gunicorn, tokens: dict[str, str]):
        self.server, self.tokens = server, tokens
        self.lock = threading.Lock()
        self.answers: list[tuple[str, int, float]] = []  # (kind, status, seconds)
        self.failures: list[str] = []
        self.posted: dict[str, list[tuple[int, int]]] = defaultdict(list)  # key -> (status, id)
        self.comments: list[tuple[int, str, str]] = []  # (id, author, key)
        self.flags_made = 0
        self.reset_flags: set[int] = set()  # approved, rejected or spammed by a moderator
        self.deadline = time.monotonic() + BUDGET

    def in_time(self) -> bool:
        return time.monotonic() < self.deadline

    def call(self, kind: str, user: str, method: str, path: str, body=None, headers=None):
        headers = {"Authorization": f"Bearer {self.tokens[user]}", **(headers or {})}
        started = time.perf_counter()
        try:
            status, _, data = self.server.request(method, path, body, headers)
        except OSError as error:
            status, data = 0, repr(error)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.answers.append((kind, status, elapsed))
            if status not in ALLOWED[kind]:
                self.failures.append(f"{kind} {method} {path} by {user}: {status} {data}")
        return status, data

    def post(self, user: str, key: str, parent: int | None = None):
        body = {"body": f"[{key}] said by {user}", "parent_id": parent}
        kind = "post" if parent is None else "reply"
        status, data = self.call(kind, user, "POST", PATH, body, {"Idempotency-Key": key})
        if status in (200, 201):
            comment_id = data["comment"]["id"]
            with self.lock:
                self.posted[key].append((status, comment_id))
                if status == 201:
                    self.comments.append((comment_id, user, key))

    def pick(self, rng: random.Random, mine: bool | None = None, user: str = ""):
        """(id, key) of a comment posted so far: anyone's, the user's, or others'."""
        with self.lock:
            choices = [
                (cid, key)
                for cid, author, key in self.comments
                if mine is None or (author == user) == mine
            ]
        return rng.choice(choices) if choices else (None, None)


def reader(run: Run, user: str, seed_: int) -> None:
    rng = random.Random(seed_)
    for n in range(OPERATIONS):
        if not run.in_time():
            break
        key = f"{user}-{n}"
        roll = rng.random()
        if roll < 0.25 or not run.comments:
            run.post(user, key)
        elif roll < 0.35:
            run.post(user, key, parent=run.pick(rng)[0])
        elif roll < 0.42:  # a double click: the same key twice at once
            barrier = threading.Barrier(2)

            def twin(barrier=barrier, key=key):
                barrier.wait()
                run.post(user, key)

            other = threading.Thread(target=twin)
            other.start()
            barrier.wait()
            run.post(user, key)
            other.join()
        elif roll < 0.47:  # a retry after a lost answer: the same key again, later
            run.post(user, key)
            run.post(user, key)
        elif roll < 0.57:
            mine, its_key = run.pick(rng, mine=True, user=user)
            if mine is not None:
                body = {"body": f"[{its_key}] edited by {user}, take {n}"}
                run.call("edit", user, "PATCH", f"/api/v1/comments/{mine}", body)
        elif roll < 0.90:
            target, _ = run.pick(rng, mine=False, user=user)
            if target is not None:
                value = rng.choice([1, 1, -1, 0])
                run.call("vote", user, "POST", f"/api/v1/comments/{target}/votes", {"value": value})
        else:
            target, _ = run.pick(rng, mine=False, user=user)
            if target is not None:
                status, _ = run.call(
                    "flag", user, "POST", f"/api/v1/comments/{target}/flags", {"reason": "spam"}
                )
                if status == 201:
                    with run.lock:
                        run.flags_made += 1


def moderator(run: Run, user: str, seed_: int) -> None:
    rng = random.Random(seed_)
    for _ in range(OPERATIONS):
        if not run.in_time():
            break
        target, _ = run.pick(rng)
        if target is None:
            time.sleep(0.01)
            continue
        action = rng.choice(["approve", "reject", "restore", "feature", "unfeature", "spam"])
        status, _ = run.call(
            "moderate", user, "POST", f"/api/v1/moderation/comments/{target}", {"action": action}
        )
        if status == 200 and action in ("approve", "reject", "spam"):
            with run.lock:
                run.reset_flags.add(target)


def test_many_workers_lose_nothing_and_duplicate_nothing(tmp_path):
    backend = "PostgreSQL" if is_postgres() else "SQLite"
    with scratch_database(tmp_path) as url:
        tokens = seed(url, readers=READERS, moderators=MODERATORS)
        with Gunicorn(live_config(url), tmp_path, workers=4) as server:
            run = Run(server, tokens)
            clients = [
                threading.Thread(target=reader, args=(run, f"reader{n}", n)) for n in range(READERS)
            ] + [
                threading.Thread(target=moderator, args=(run, f"mod{n}", 100 + n))
                for n in range(MODERATORS)
            ]
            started = time.perf_counter()
            for client in clients:
                client.start()
            for client in clients:
                client.join(60)
            wall = time.perf_counter() - started
            log = server.output()
        check_database(url, run)

    latencies = sorted(seconds for _, _, seconds in run.answers)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    statuses = Counter(status for _, status, _ in run.answers)
    print(
        f"\n{backend}, 4 gunicorn workers, {len(clients)} clients: {len(latencies)} requests "
        f"in {wall:.1f}s ({len(latencies) / wall:.0f}/s); latency p50 "
        f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms; answers {dict(sorted(statuses.items()))}"
    )
    # A 503 here would be a deadlock or a lock held too long: its log line says which.
    trouble = [line for line in log.splitlines() if "in errors: database" in line]
    assert not run.failures, "\n".join(run.failures[:20] + trouble[:20])
    assert "Traceback" not in log, log[-3000:]


def check_database(url: str, run: Run) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            rows = db.execute(
                text(
                    "SELECT id, body, status, score, upvotes, downvotes, rank, open_flags"
                    " FROM comments"
                )
            ).all()
            votes = db.execute(text("SELECT comment_id, value FROM votes")).all()
            flags = Counter(db.execute(text("SELECT comment_id FROM flags")).scalars())
            keys = db.execute(text("SELECT count(*) FROM idempotency_keys")).scalar()
            count = db.execute(text("SELECT comment_count FROM threads")).scalar()
    finally:
        engine.dispose()

    # Every key made exactly one comment, which every answer for that key named.
    by_id = {row.id: row for row in rows}
    for key, answers in run.posted.items():
        assert [status for status, _ in answers].count(201) == 1, (key, answers)
        assert len({comment_id for _, comment_id in answers}) == 1, (key, answers)
    made = {answers[0][1] for answers in run.posted.values()}
    assert set(by_id) == made, "comments in the database that no 201 announced, or lost"
    markers = Counter(row.body.split("]")[0] for row in rows if row.body.startswith("["))
    assert all(markers[f"[{key}"] == 1 for key in run.posted), "a comment written twice"
    assert keys == len(run.posted)
    assert sum(1 for answers in run.posted.values() if len(answers) == 2) > 0

    # Counters equal the rows they count.
    assert count == sum(1 for row in rows if row.status == "approved")
    tally = defaultdict(lambda: [0, 0])
    for comment_id, value in votes:
        tally[comment_id][0 if value == 1 else 1] += 1
    for row in rows:
        up, down = tally[row.id]
        assert (row.upvotes, row.downvotes, row.score) == (up, down, up - down), row
        assert row.rank == wilson_rank(up, down), row
        if row.id in run.reset_flags:
            assert row.open_flags <= flags[row.id], row
        else:
            assert row.open_flags == flags[row.id], row
    assert sum(flags.values()) == run.flags_made
