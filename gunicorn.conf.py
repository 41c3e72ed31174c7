"""gunicorn settings for production: `gunicorn 'forum:create_app()'` from the
checkout reads this file. Environment variables adjust it per host.

- FORUM_BIND (default 127.0.0.1:8000): where the reverse proxy sends requests.
- FORUM_WORKERS (default 2 per CPU + 1): processes. The app keeps no state in
  them (sessions, limits and caches live in the database and Redis), so any
  number of workers on any number of hosts can serve.
- FORUM_THREADS (default 1): threads per worker; more than 1 uses gthread.
"""

import multiprocessing
import os
import re

from gunicorn.glogging import Logger

bind = os.environ.get("FORUM_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("FORUM_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("FORUM_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"

# No preloading: every worker opens its own database connections after the fork.
preload_app = False
# A request past this is stuck (the moderation hook has a 2 s deadline, SQLite's
# busy timeout is 5 s): the worker is replaced and its transaction rolls back.
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, staggered, so slow leaks cannot grow.
max_requests = 5000
max_requests_jitter = 500

# The proxy in front sets X-Forwarded-*; the app trusts FORUM_PROXY_HOPS of them.
forwarded_allow_ips = os.environ.get("FORUM_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# Reset, confirmation and unsubscribe links carry their token in the path: the
# access log shows the route with the token blanked out.
_TOKEN_IN_PATH = re.compile(r"^(/auth/reset/|/auth/verify/|/unsubscribe/)[^/?\s]+")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = _TOKEN_IN_PATH.sub(r"\1…", atoms.get("U", ""))
        atoms["r"] = "-"  # the request line would repeat the path and add the query
        atoms["q"] = "-"
        return atoms


logger_class = RedactingLogger
