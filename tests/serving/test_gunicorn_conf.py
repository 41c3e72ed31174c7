"""The repository's gunicorn.conf.py: it loads, binds where FORUM_BIND says, and
its access log never shows the token of a reset, confirmation or unsubscribe link."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.live_server import ROOT, create_schema, free_port, live_config


def test_the_access_log_blanks_tokens_in_paths(tmp_path):
    url = f"sqlite:///{tmp_path / 'forum.sqlite'}"
    create_schema(url)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "FORUM_BIND": f"127.0.0.1:{port}",
        "FORUM_WORKERS": "1",
        "FORUM_TEST_OVERRIDES": json.dumps(live_config(url)),
    }
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "tests.gunicorn_app:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        statuses = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not statuses:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/auth/reset/SECRET-TOKEN-1?x=SECRET2"
                )
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
            except OSError:
                time.sleep(0.1)
        assert statuses == [400]
    finally:
        server.terminate()
        server.wait(10)
    text = log.read_text()
    assert '"GET /auth/reset/…" 400' in text, text
    assert "SECRET-TOKEN-1" not in text and "SECRET2" not in text
