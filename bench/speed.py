"""`make bench`: our server measured against Isso 0.14 and against ceilings.

Every server runs in turn under the same gunicorn command line (sync workers,
one unless stated), pinned to core 0; the load comes from core 1 (wrk, or the
Python generator in bench/speedlib/loadgen.py). The threads (100 / 500 / 2,000 /
20,000 generated reader comments) are built once into our SQLite database and
Isso's and kept in bench/.work/ with Isso's virtualenv; a fresh machine builds
both (about a minute).

    .venv/bin/python bench/speed.py             # everything; writes bench/RESULTS.md
    .venv/bin/python bench/speed.py --quick     # short runs, for development
    .venv/bin/python bench/speed.py --only api,ceilings

Groups: api (ours, cache off and on, and the 304), html, isso, ceilings, post,
queue (bench/moderation_queue.py). RESULTS.md is written only by a full run of
every group, unless --write says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from speedlib import dataset, isso_setup, load, posting, report
from speedlib.load import Measurement, measure, probe
from speedlib.report import Row, Target
from speedlib.servers import CAN_PIN, SERVER_CORE, Server, pinned

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
BIN = Path(sys.executable).parent  # the project's venv: python, gunicorn
GROUPS = ("api", "html", "isso", "ceilings", "post", "queue")
SIZE = 500  # the thread the ratios are about
ISSO_SIZES = (100, 500, 2000)  # 20,000 would take Isso about 40 s a request
# Our posting runs, each compared with Isso on as many workers.
POST_PAIRS = (
    ("post-ours-sqlite-1", 1, "SQLite, 1w"),
    ("post-ours-sqlite-2", 2, "SQLite, 2w"),
    ("post-ours-pg-4", 4, "PostgreSQL, 4w"),
)


@dataclass
class Durations:
    run: float  # seconds of load per fast measurement
    warmup: float
    slow: float  # requests of over SLOW seconds (Isso's): a longer window
    post: float


FULL = Durations(run=10, warmup=2, slow=15, post=10)
QUICK = Durations(run=3, warmup=1, slow=4, post=3)
SLOW = 0.75  # seconds: wrk's cut-off would lose too large a share of such requests
# wrk's connections: a sync worker serves one at a time, the others wait in the
# backlog, so the worker never idles while the load generator (on a core that
# may be shared) turns a connection around. Latency includes that wait.
CONNECTIONS = 4


def api_path(size: int) -> str:
    return f"/api/v1/threads/{dataset.slug(size)}/comments?limit=1000"


def count_ours(payload: dict) -> int:
    stack, found = list(payload["comments"]), 0
    while stack:
        node = stack.pop()
        found += 1
        stack.extend(node.get("replies", ()))
    return found


def count_isso(payload: dict) -> int:
    return sum(1 + len(c.get("replies", ())) for c in payload["replies"])


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.d = QUICK if args.quick else FULL
        self.only = set(args.only.split(",")) if args.only else set(GROUPS)
        unknown = self.only - set(GROUPS)
        if unknown:
            sys.exit(f"unknown group(s) {', '.join(sorted(unknown))}; use {', '.join(GROUPS)}")
        self.rows: list[Row] = []
        self.results: dict[str, Measurement] = {}
        self.statuses: dict[str, str] = {}
        self.post_checks: dict[str, tuple[bool, str]] = {}
        self.queue: dict[str, float] = {}
        self.notes: list[str] = []
        self.wrk = None if args.python_load else load.find_wrk()
        self.run_dir = Path(tempfile.mkdtemp(prefix="speed-", dir="/tmp"))
        self.isso_python: Path | None = None
        self.data: Path | None = None
        self.postgres_used: str | None = None

    # -- setting up -----------------------------------------------------------

    def prepare(self) -> None:
        WORK.mkdir(exist_ok=True)
        needs_isso = bool(self.only & {"isso", "post"})
        if needs_isso:
            try:
                self.isso_python = isso_setup.ensure_venv(WORK / "isso-venv")
            except subprocess.CalledProcessError as error:
                print(f"isso: the install failed ({error}); going on without Isso", flush=True)
                self.notes.append("Isso could not be installed: no Isso measurements.")
        if self.only & {"api", "html", "isso", "ceilings"}:
            self.data = dataset.ensure(WORK, self.isso_python)
            # Serve copies: a server may write (WAL, settings rows) and the cache must not drift.
            shutil.copy(self.data / "forum.sqlite", self.run_dir / "forum.sqlite")
            if self.isso_python:
                shutil.copy(self.data / "isso.sqlite", self.run_dir / "isso.sqlite")
        if not self.wrk:
            self.notes.append("wrk was missing: the Python generator drove every run.")
        if not CAN_PIN:
            self.notes.append("No taskset or a single core: servers and load shared the CPUs.")

    def ours(self, name: str, url: str, cache: bool, workers: int = 1) -> Server:
        env = {
            "FORUM_DATABASE_URL": url,
            "FORUM_SECRET_KEY": "bench",
            "FORUM_RATELIMIT": "off",
            "FORUM_MAIL_WORKER": "off",
            "FORUM_CACHE": "on" if cache else "off",
        }
        return self._server(name, BIN / "gunicorn", "forum:create_app()", env, workers)

    def isso(self, name: str, dbpath: Path, workers: int = 1) -> Server:
        config = isso_setup.write_config(self.run_dir / f"{name}.cfg", dbpath)
        gunicorn = self.isso_python.parent / "gunicorn"
        return self._server(name, gunicorn, isso_setup.APP, isso_setup.server_env(config), workers)

    def ceiling(self, name: str, app: str) -> Server:
        env = {
            "BENCH_CONSTANT_FILE": str(self.run_dir / "constant.body"),
            "BENCH_CONSTANT_TYPE": (self.run_dir / "constant.type").read_text(),
        }
        server = self._server(name, BIN / "gunicorn", f"speedlib.ceilings:{app}", env, 1)
        server.pythonpath = str(BENCH)
        return server

    def _server(self, name, gunicorn, app, env, workers) -> Server:
        return Server(
            name=name,
            gunicorn=gunicorn,
            app=app,
            env=env,
            workers=workers,
            cwd=self.run_dir,  # no gunicorn.conf.py here (and -c names an empty one)
            log_dir=self.run_dir,
        )

    # -- measuring ------------------------------------------------------------

    def record(self, key, name, server, comments, m: Measurement, status, note=""):
        """A row of the table; comments: a thread's size, or any text."""
        if isinstance(comments, int):
            comments = f"{comments:,}"
        status = str(status)
        self.results[key] = m
        self.statuses[key] = status
        if m.errors:
            note = ", ".join(filter(None, [note, f"{m.errors} failed"]))
        row = Row(
            name, server, comments, m.generator, m.rps, m.p50_ms, m.p99_ms, m.cpu_ms, status, note
        )
        self.rows.append(row)
        print(
            f"  {name:32} {server:20} {comments:>9} {m.rps:9.1f} req/s  "
            f"p50 {m.p50_ms or 0:8.2f} ms  p99 {m.p99_ms or 0:8.2f} ms  "
            f"CPU {m.cpu_ms or 0:7.2f} ms/req  {status} {note}",
            flush=True,
        )

    def read(self, server: Server, path: str, headers: dict | None = None):
        """Two requests, then the measurement: wrk for quick responses; for slow
        ones (the second request took over SLOW seconds) one Python client in a
        loop, every started request awaited, so a few requests a second are
        counted exactly.
        Returns (status, headers, body) of the first request and the measurement."""
        status, got, body = probe(server, path, headers)  # may be cold: templates, caches
        began = time.perf_counter()
        probe(server, path, headers)
        slow = time.perf_counter() - began > SLOW
        if slow:
            m = measure(server, path, duration=self.d.slow, warmup=0, wrk=None, concurrency=1,
                        headers=headers)  # fmt: skip
        else:
            m = measure(server, path, duration=self.d.run, warmup=self.d.warmup, wrk=self.wrk,
                        concurrency=CONNECTIONS, headers=headers)  # fmt: skip
        return status, got, body, m

    def capture_constant(self, server: Server) -> None:
        """Our 500-comment API response: the bytes the ceilings serve."""
        status, headers, body = probe(server, api_path(SIZE))
        (self.run_dir / "constant.body").write_bytes(body)
        (self.run_dir / "constant.type").write_text(headers.get("Content-Type", ""))

    def run_api(self) -> None:
        url = f"sqlite:///{self.run_dir / 'forum.sqlite'}"
        page = f"/articles/{dataset.slug(SIZE)}"
        print("ours, cache off", flush=True)
        with self.ours("ours-uncached", url, cache=False) as server:
            self.capture_constant(server)
            if "api" in self.only:
                for size in dataset.SIZES:
                    status, _, body, m = self.read(server, api_path(size))
                    got = count_ours(json.loads(body))
                    note = "" if got == size else f"the response holds {got} comments"
                    self.record(
                        f"api-uncached-{size}", "API read, cache off", "ours", size, m, status, note
                    )
            if "html" in self.only:
                status, _, _, m = self.read(server, page)
                self.record(
                    "html-uncached",
                    "HTML page, cache off",
                    "ours",
                    SIZE,
                    m,
                    status,
                    "the first 50 top-level comments and their replies",
                )
        if not self.only & {"api", "html"}:
            return
        print("ours, cache on", flush=True)
        with self.ours("ours-cached", url, cache=True) as server:
            if "api" in self.only:
                for size in (SIZE, 2000):
                    status, _, _, m = self.read(server, api_path(size))
                    self.record(
                        f"api-cached-{size}",
                        "API read, cache on, unchanged",
                        "ours",
                        size,
                        m,
                        status,
                    )
                self.run_conditional(server)
            if "html" in self.only:
                status, headers, _, m = self.read(server, page)
                note = "a reader without cookies"
                if "Set-Cookie" in headers:
                    note += "; the page sets a cookie"
                self.record("html-cached", "HTML page, cache on", "ours", SIZE, m, status, note)

    def run_conditional(self, server: Server) -> None:
        _, headers, _ = probe(server, api_path(SIZE))
        etag = headers.get("ETag")
        conditional = {"If-None-Match": etag} if etag else {}
        status, _, _, m = self.read(server, api_path(SIZE), conditional)
        if etag:
            note = f"If-None-Match: {etag}"
        else:
            note = "the response carries no ETag: this is a plain GET"
        self.record("api-304", "API read, conditional", "ours", SIZE, m, status, note)

    def run_isso(self) -> None:
        print("Isso", flush=True)
        with self.isso("isso-read", self.run_dir / "isso.sqlite") as server:
            for size in ISSO_SIZES:
                status, _, body, m = self.read(server, f"/?uri=/{dataset.slug(size)}")
                got = count_isso(json.loads(body))
                note = "" if got == size else f"the response holds {got} comments"
                self.record(f"isso-{size}", "API read (GET /?uri=…)", "Isso", size, m, status, note)

    def run_ceilings(self) -> None:
        print("ceilings", flush=True)
        for key, app, path, what in (
            ("flask-constant", "flask_constant", api_path(SIZE), "Flask view, constant bytes"),
            ("wsgi-constant", "wsgi_constant", api_path(SIZE), "bare WSGI, constant bytes"),
            ("flask-hello", "flask_hello", "/", "Flask hello world"),
        ):
            with self.ceiling(key, app) as server:
                status, _, body, m = self.read(server, path)
                self.record(key, what, "ceiling", f"{len(body):,} B", m, status)

    def run_posts(self) -> None:
        print("posting: 8 clients", flush=True)
        path = f"/api/v1/threads/{posting.THREAD}/comments"
        for workers in (1, 2):
            url = f"sqlite:///{self.run_dir / f'post-{workers}.sqlite'}"
            tokens = posting.build_ours(url)
            with self.ours(f"post-ours-sqlite-{workers}", url, cache=True, workers=workers) as s:
                posted = self.post(s, path, "ours", [{"token": t} for t in tokens])
            self.record_post(
                f"post-ours-sqlite-{workers}",
                f"ours, SQLite, {workers}w",
                posted,
                posting.count_ours(url),
            )
        url = posting.fresh_postgres()
        if url:
            self.postgres_used = url
            tokens = posting.build_ours(url)
            with self.ours("post-ours-pg-4", url, cache=True, workers=4) as s:
                posted = self.post(s, path, "ours", [{"token": t} for t in tokens])
            self.record_post(
                "post-ours-pg-4", "ours, PostgreSQL, 4w", posted, posting.count_ours(url)
            )
            posting.drop_postgres()
        else:
            self.notes.append("PostgreSQL was not reachable: no PostgreSQL posting run.")
        for workers in (1, 2, 4) if self.isso_python else ():
            dbpath = self.run_dir / f"isso-post-{workers}.sqlite"
            clients = posting.build_isso(self.isso_python, dbpath)
            with self.isso(f"post-isso-{workers}", dbpath, workers=workers) as s:
                posted = self.post(s, f"/new?uri=/{posting.THREAD}", "isso", clients)
            self.record_post(
                f"post-isso-{workers}",
                f"Isso, SQLite, {workers}w",
                posted,
                posting.count_isso(dbpath),
            )

    def post(self, server: Server, path: str, kind: str, clients: list):
        """(the measurement, 201s during the warm-up before it)."""
        kwargs = {"wrk": None, "warmup": 0, "concurrency": posting.CLIENTS, "post": kind}
        warm = measure(server, path, duration=self.d.warmup, clients=clients, run="warm-up",
                       **kwargs)  # fmt: skip
        m = measure(server, path, duration=self.d.post, clients=clients, run="run", **kwargs)
        return m, warm.statuses.get("201", 0)

    def record_post(self, key: str, server: str, posted, counts: tuple[int, int]):
        m, warm = posted
        rows, distinct = counts
        created = m.statuses.get("201", 0) + warm
        ok = rows == created and distinct == rows
        check = f"{created} × 201 (with the warm-up's), {rows} rows, {rows - distinct} duplicated"
        if rows != created:
            check += f", {created - rows} LOST" if created > rows else f", {rows - created} extra"
        self.post_checks[key] = (ok, check)
        other = {s: n for s, n in m.statuses.items() if s != "201"}
        status = "201" + (f"; {other}" if other else "")
        self.record(key, "POST a comment, 8 clients", server, "–", m, status, check)

    def run_queue(self) -> None:
        print("moderation queue (bench/moderation_queue.py, in-process)", flush=True)
        argv = [*pinned(SERVER_CORE), sys.executable, str(BENCH / "moderation_queue.py")]
        # Its app has no FORUM_MAIL_WORKER override: without this, the background mailer
        # polls a database the script drops at the end.
        env = dict(os.environ, FORUM_MAIL_WORKER="off")
        out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout
        pattern = r"^(\S+)\s+(\d+) pending: median\s+([\d.]+) ms, p90\s+([\d.]+) ms, (\d+) SQL"
        for path, pending, median, p90, statements in re.findall(pattern, out, re.M):
            kind = "API" if "/api/" in path else "HTML"
            self.queue[kind] = float(median)
            self.rows.append(
                Row(
                    f"moderation queue, first page ({kind})",
                    "ours, test client",
                    f"{int(pending):,} pending",
                    "in-process ×20",
                    None,
                    float(median),
                    None,
                    None,
                    "200",
                    f"median of 20 in the p50 column, p90 {p90} ms, {statements} SQL statements",
                )
            )
            print(f"  {path:38} median {median} ms, p90 {p90} ms", flush=True)

    # -- the verdict ----------------------------------------------------------

    def rps(self, key: str) -> float | None:
        m = self.results.get(key)
        return m.rps if m and m.requests else None

    def ratio(self, name, top, bottom, goal: float, unit="×") -> Target:
        """Target: throughput of `top` over that of `bottom`; the detail gives the
        same ratio from CPU per request, steadier when other work shares the machine."""
        a, b = self.results.get(top), self.results.get(bottom)
        if not (a and a.requests and b and b.requests):
            return Target(name, None, f"≥ {goal:g}{unit}", None, "not measured in this run")
        scale = 100 if unit == "%" else 1
        value = a.rps / b.rps * scale
        detail = ""
        if a.cpu_ms and b.cpu_ms:
            detail = f"by CPU per request: {b.cpu_ms / a.cpu_ms * scale:,.2f}{unit}"
        return Target(name, value, f"≥ {goal:g}{unit}", value >= goal, detail)

    def targets(self) -> list[Target]:
        api, isso = f"api-uncached-{SIZE}", f"isso-{SIZE}"
        t = [
            self.ratio("API 500: ours, cache off / Isso", api, isso, 100),
            self.ratio("API 500: ours, cache off / constant-bytes Flask", api, "flask-constant",
                       25, "%"),
            self.ratio("API 500: ours, cache on / constant-bytes Flask", f"api-cached-{SIZE}",
                       "flask-constant", 80, "%"),
        ]  # fmt: skip
        conditional = self.ratio("API 500: ours, 304 / hello-world Flask", "api-304",
                                 "flask-hello", 50, "%")  # fmt: skip
        got = self.statuses.get("api-304")
        if got is not None and got != "304":
            conditional.passed = False
            conditional.detail = f"the conditional request got {got}, not 304"
        t.append(conditional)
        t.append(self.ratio("HTML page 500: ours, cache on / Isso's JSON", "html-cached", isso, 50))
        t.append(self.per_comment())
        for ours, workers, label in POST_PAIRS:
            t.append(self.ratio(f"POST: ours ({label}) / Isso ({workers}w)", ours,
                                f"post-isso-{workers}", 1))  # fmt: skip
        for ours, _, label in POST_PAIRS:
            m = self.results.get(ours)
            p99 = m.p99_ms if m else None
            t.append(Target(f"POST p99 (ms): ours ({label})", p99, "< 100 ms",
                            None if p99 is None else p99 < 100))  # fmt: skip
        for key, (ok, check) in self.post_checks.items():
            t.append(Target(f"POST, none lost or doubled: {key.removeprefix('post-')}", None,
                            "each 201 one new row", ok, check))  # fmt: skip
        for kind in ("HTML", "API"):
            median = self.queue.get(kind)
            t.append(Target(f"moderation queue, 10,000 pending, first page, {kind} (ms)", median,
                            "< 20 ms", None if median is None else median < 20))  # fmt: skip
        return t

    def per_comment(self) -> Target:
        name = "per-comment server time, 2,000 / 100 (ours, cache off)"
        small, big = self.results.get("api-uncached-100"), self.results.get("api-uncached-2000")
        if not small or not big:
            return Target(name, None, "≤ 1.5×", None, "not measured in this run")
        if small.cpu_ms and big.cpu_ms:
            a, b, what = small.cpu_ms / 100, big.cpu_ms / 2000, "worker CPU"
        else:
            a, b, what = small.p50_ms / 100, big.p50_ms / 2000, "p50 latency"
        detail = f"{what}: {b * 1000:.1f} µs/comment at 2,000, {a * 1000:.1f} at 100"
        return Target(name, b / a, "≤ 1.5×", b / a <= 1.5, detail)

    # -- running it all -------------------------------------------------------

    def run(self) -> None:
        began = time.monotonic()
        try:
            self.prepare()
            if self.only & {"api", "html", "ceilings"}:
                self.run_api()
            if "ceilings" in self.only:
                self.run_ceilings()
            if "isso" in self.only and self.isso_python:
                self.run_isso()
            if "post" in self.only:
                self.run_posts()
            if "queue" in self.only:
                self.run_queue()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        targets = self.targets()
        elapsed = time.monotonic() - began
        print()
        print(report.plain(self.rows, targets))
        passed = sum(t.passed is True for t in targets)
        print(f"\n{passed} of {len(targets)} targets pass; took {elapsed / 60:.1f} min")
        write = self.args.write
        if write is None:  # by default only a full run of everything writes RESULTS.md
            write = not (self.args.quick or self.args.only or self.args.python_load)
        if write:
            self.write(targets, elapsed)

    def write(self, targets: list[Target], elapsed: float) -> None:
        isso_version = isso_setup.installed_version(self.isso_python) if self.isso_python else ""
        info = report.machine(isso_version, self.wrk, self.postgres_used)
        d = self.d
        sizes = ", ".join(f"{n:,}" for n in dataset.SIZES)
        settings = "\n".join(
            [
                "- Each server in turn under the same command line, `gunicorn -c "
                "bench/speedlib/gunicorn_neutral.py --workers N --worker-class sync --timeout "
                "300 --backlog 2048 --no-control-socket` (1 worker unless stated), pinned with "
                "`taskset -c 0`; the load generator pinned with `taskset -c 1`.",
                f"- Reads: one request, then {d.warmup:g} s of warm-up and {d.run:g} s of "
                f"`wrk -t1 -c{CONNECTIONS}` (each request on a new connection: sync workers close "
                "them; latency includes waiting behind the other connections). A request that "
                f"takes over {SLOW} s (Isso's, our 20,000) is measured instead by one Python "
                f"client in a loop for {d.slow:g} s, every started request awaited "
                "(`py c=1`).",
                f"- Posting: {d.post:g} s of 8 Python client threads on a fresh database per "
                "run; ours: one account and bearer token per client, an Idempotency-Key per "
                "post; Isso: an author name per client. Afterwards the rows are counted: "
                "every 201 must be one new row, and no text twice.",
                "- CPU ms/req: utime+stime of the worker processes (/proc/<pid>/stat) over "
                "the run, divided by the requests answered.",
                f"- Threads of {sizes} generated reader comments (200–600 characters of "
                f"Markdown, replies nested up to 12 deep; dataset version {dataset.VERSION}). "
                "Isso holds the same comments, each reply under its top-level comment "
                "(Isso keeps one level); its read returns the whole thread.",
                "- Ours runs with FORUM_RATELIMIT=off, FORUM_MAIL_WORKER=off and "
                "FORUM_CACHE=off or on as stated; Isso with its guard and moderation off.",
                f"- The whole run took {elapsed / 60:.1f} minutes.",
            ]
        )
        notes = self.notes + [
            "Isso's 20,000-comment thread is not measured: about 40 s a request.",
        ]
        if self.args.note:
            notes.insert(0, self.args.note)
        path = Path(self.args.results)
        report.write(path, info, report.commit(ROOT), settings, self.rows, targets, notes)
        print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs, for development")
    parser.add_argument("--only", help=f"comma-separated groups among {', '.join(GROUPS)}")
    parser.add_argument("--python-load", action="store_true", help="use the Python generator")
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    parser.add_argument("--note", help="a line for RESULTS.md's notes (e.g. what else ran)")
    write = parser.add_mutually_exclusive_group()
    write.add_argument("--write", dest="write", action="store_true", default=None)
    write.add_argument("--no-write", dest="write", action="store_false")
    Bench(parser.parse_args()).run()


if __name__ == "__main__":
    main()
