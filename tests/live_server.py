"""A real gunicorn serving the app, for the fault and concurrency tests.

scratch_database() gives a database of the suite's kind: a SQLite file, or a
PostgreSQL database made for the test (and dropped after) on the server that
FORUM_TEST_DATABASE_URL names.  Gunicorn runs tests/gunicorn_app.py, which
builds the app with live_config() passed through the environment.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from gunicorn.config import KNOWN_SETTINGS
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from forum import create_app
from forum.extensions import db
from forum.models import Role
from forum.services.accounts import accounts
from forum.services.discussion import threads

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"  # what seed() gives every account


def is_postgres() -> bool:
    return os.environ.get("FORUM_TEST_DATABASE_URL", "").startswith("postgresql")


@contextlib.contextmanager
def scratch_database(tmp_path: Path):
    """Yields the URL of an empty database with the schema, of the suite's kind."""
    if not is_postgres():
        url = f"sqlite:///{tmp_path / 'live.sqlite'}"
        create_schema(url)
        yield url
        return
    base = make_url(os.environ["FORUM_TEST_DATABASE_URL"])
    name = f"{base.database}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        create_schema(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def live_config(url: str, **settings) -> dict:
    """The app's config for these tests; settings are moderation settings' defaults."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "live test secret",
        "FORUM_RATELIMIT": "off",
        "FORUM_ARGON2_TIME_COST": 1,
        "FORUM_ARGON2_MEMORY_KIB": 1024,
        "FORUM_MAIL_WORKER": "off",
        "FORUM_SETTINGS_DEFAULTS": {"new_account_comments": 10**4, **settings},
    }


def create_schema(url: str) -> None:
    app = create_app(live_config(url))
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def seed(url: str, readers: int = 1, moderators: int = 0, slug: str = "live-story") -> dict:
    """An article and accounts (reader0.., mod0..); returns {username: bearer token}."""
    app = create_app(live_config(url))
    tokens = {}
    with app.app_context():
        threads.save_article(slug, "A live story", "Some **body** text.")
        names = [(f"reader{n}", Role.READER) for n in range(readers)]
        names += [(f"mod{n}", Role.MODERATOR) for n in range(moderators)]
        for name, role in names:
            user = accounts.register(name, f"{name}@example.org", PASSWORD, role)
            tokens[name] = accounts.issue_token(user, 24)[0]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return tokens


# Recent gunicorn (27 here) opens a control socket, one path per user: runs at once
# would share it.  Versions without one have no flag to turn it off either.
_NO_CONTROL_SOCKET = [
    flag
    for setting in KNOWN_SETTINGS
    for flag in setting.cli or ()
    if flag == "--no-control-socket"
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn -w WORKERS on a free port; a context manager that stops it."""

    def __init__(self, config: dict, tmp_path: Path, workers: int = 1, env: dict | None = None):
        self.port = free_port()
        self.log = tmp_path / f"gunicorn-{self.port}.log"
        environment = {
            **os.environ,
            **(env or {}),
            "FORUM_TEST_OVERRIDES": json.dumps(config),
            "PYTHONPATH": str(ROOT),
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(workers),
                    "--worker-class",
                    "sync",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    "30",
                    "--graceful-timeout",
                    "3",
                    "--chdir",
                    str(ROOT),
                    *_NO_CONTROL_SOCKET,
                    "tests.gunicorn_app:app",
                ],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def __enter__(self) -> Gunicorn:
        try:
            self.wait_until_serving()
        except BaseException:
            self.stop()  # __exit__ does not run when __enter__ raises
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # A ceiling, not a wait: a server usually answers in a second or two, but with
    # the suite in parallel workers on a busy 2-core machine, booting two servers of
    # two workers each has taken over 20 s.
    def wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.request("GET", "/api/v1/openapi.json", timeout=2)[0] == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer in {timeout}s:\n{self.output()}")

    def workers(self) -> set[int]:
        """The worker processes' ids (the master's children)."""
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                # pid (comm) state ppid ...: comm may hold spaces, so split after ")"
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.add(int(entry.name))
        return found

    def request(self, method, path, body=None, headers=None, timeout: float = 15):
        """(status, headers, parsed JSON or text); one connection per request
        (the sync worker closes each one)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            sent = {"Content-Type": "application/json"} if payload is not None else {}
            connection.request(method, path, body=payload, headers={**sent, **(headers or {})})
            response = connection.getresponse()
            raw = response.read()
            kind = response.getheader("Content-Type", "")
            data = json.loads(raw) if raw and kind.startswith("application/json") else raw.decode()
            return response.status, dict(response.getheaders()), data
        finally:
            connection.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
