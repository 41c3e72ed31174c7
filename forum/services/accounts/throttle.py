"""A growing wait after failed sign-ins, per account name at one address and
per address.

Only failures count, in several windows at once: a few mistakes cost nothing,
then each window that fills adds a longer wait (a minute, ten minutes, an hour,
a day). The counters live in the rate limiter's storage (Redis when
FORUM_REDIS_URL is set, else the database: forum.limit_storage), so every
worker and host sees the same ones, and FORUM_RATELIMIT=off turns this off with
the other limits.

There is no count per account name alone: guesses from one address at one name
were the way to lock its owner out everywhere (fifteen of them did it). The
owner signing in from another address is never held up by someone else's
failures; guessing from many addresses at once meets each address's own wait.
"""

from __future__ import annotations

import time

from flask_babel import gettext, ngettext
from limits import parse_many

from forum.errors import RateLimited
from forum.extensions import address_key, counters

# Failed sign-ins for one account name from one address ...
PER_NAME = parse_many("5 per minute; 10 per 10 minutes; 20 per hour; 50 per day")
# ... and from one address, whatever the names (one machine trying many).
PER_ADDRESS = parse_many("20 per minute; 60 per 10 minutes; 200 per hour; 1000 per day")


def _scopes(name, address) -> list[tuple[list, str, str]]:
    name = name.lower()[:30] if isinstance(name, str) else ""
    address = address_key(address)
    return [
        (PER_NAME, "signin-name", f"{name}@{address}"),
        (PER_ADDRESS, "signin-address", address),
    ]


def check(name, address) -> None:
    """Raises RateLimited, with how long to wait, while a window is full."""
    wait = 0.0
    for limits, scope, key in _scopes(name, address):
        for item in limits:
            if not counters.test(item, scope, key):
                wait = max(wait, counters.reset_at(item, scope, key) - time.time())
    if wait > 0:
        raise RateLimited(
            gettext(
                "Too many failed sign-ins: wait %(wait)s before trying again, "
                "or reset your password.",
                wait=_spoken(wait),
            ),
            retry_after=int(wait) + 1,
        )


def failed(name, address) -> None:
    for limits, scope, key in _scopes(name, address):
        for item in limits:
            counters.hit(item, scope, key)


def succeeded(name, address) -> None:
    """The right password clears the name's count at this address (not the
    address's own)."""
    limits, scope, key = _scopes(name, address)[0]
    for item in limits:
        counters.clear(item, scope, key)


def _spoken(seconds: float) -> str:
    seconds = int(seconds) + 1
    if seconds < 90:
        return ngettext("%(num)s second", "%(num)s seconds", seconds)
    if seconds < 5400:
        return ngettext("%(num)s minute", "%(num)s minutes", round(seconds / 60))
    return ngettext("%(num)s hour", "%(num)s hours", round(seconds / 3600))
