"""A daemon thread per process that runs delivery passes (forum.services.notify.outbox)
every FORUM_MAIL_INTERVAL seconds, so mail goes out without a cron job; each pass
first writes the moderators' digests that are due (forum.services.notify.alerts)."""

from __future__ import annotations

import logging
import os
import random
import threading

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from forum.services.notify import alerts, outbox

log = logging.getLogger(__name__)


class BackgroundSender:
    """A daemon thread per process running a pass every FORUM_MAIL_INTERVAL seconds.

    It is started lazily by the first request a process serves (ensure_running), so
    `flask` commands never run it and each forked gunicorn worker gets its own;
    claims keep the workers from ever sending one message twice.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.interval = float(app.config.get("FORUM_MAIL_INTERVAL") or 5)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stop = threading.Event()

    def ensure_running(self) -> None:
        if self._running():
            return
        with self._lock:
            if self._running():
                return
            self._stop = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="forum-mail-sender", daemon=True
            )
            self._thread.start()

    def _running(self) -> bool:
        thread = self._thread
        return thread is not None and self._pid == os.getpid() and thread.is_alive()

    def stop(self, timeout: float | None = 10) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, stop: threading.Event) -> None:
        # Workers started together should not all poll at the same moment.
        first = random.uniform(0, self.interval)
        last_problem = None
        while not stop.wait(first if first is not None else self.interval):
            first = None
            try:
                with self.app.app_context():
                    self.run_pass()
                last_problem = None
            except SQLAlchemyError as error:  # the database is away: say so once, briefly
                problem = outbox.summary(error)
                if problem != last_problem:
                    log.warning("mail: a background delivery pass failed: %s", problem)
                last_problem = problem
            except Exception as error:  # keep the thread alive; say it once per cause
                problem = f"{type(error).__name__}: {error}"
                if problem != last_problem:
                    log.exception("mail: a background delivery pass failed")
                last_problem = problem

    def run_pass(self) -> outbox.PassResult:
        digests = alerts.queue_digests()
        if digests:
            log.info("mail: %s moderators' digest(s) queued", digests)
        result = outbox.send_due()
        if result.sent or result.failed:
            log.info("mail: %s", result)
        return result


def start_background_sender(app: Flask) -> BackgroundSender | None:
    """Arm the background sender for this app; a no-op (None) under tests or when
    FORUM_MAIL_WORKER is "off". Call it from create_app()."""
    if app.testing or str(app.config.get("FORUM_MAIL_WORKER", "on")).lower() == "off":
        return None
    existing = app.extensions.get("forum_mail_sender")
    if existing is not None:
        return existing
    sender = BackgroundSender(app)
    app.extensions["forum_mail_sender"] = sender
    app.before_request(sender.ensure_running)
    return sender
