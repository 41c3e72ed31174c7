"""The WSGI app gunicorn serves in tests/live_server.py.

create_app() with the overrides in FORUM_TEST_OVERRIDES (JSON): config.py reads
only the documented FORUM_* variables from the environment, and these tests
also need cheap Argon2 and moderation defaults.

FORUM_TEST_PAUSE_URL arms a trap for the worker-kill test: a request about to
store the idempotency key "pause-here" (its comment and the thread's count
already written, not committed) tells that URL so and then waits to be killed.
"""

import json
import os
import time
import urllib.request

from sqlalchemy import event

from forum import create_app
from forum.extensions import db

app = create_app(json.loads(os.environ.get("FORUM_TEST_OVERRIDES", "{}")))

PAUSE_URL = os.environ.get("FORUM_TEST_PAUSE_URL")
if PAUSE_URL:

    def pause_mid_transaction(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO idempotency_keys") and "pause-here" in str(parameters):
            urllib.request.urlopen(urllib.request.Request(PAUSE_URL, data=b"{}"), timeout=5)
            time.sleep(60)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", pause_mid_transaction)
