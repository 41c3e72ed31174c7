"""Every Flask extension, unbound; create_app() binds them with init_app()."""

import ipaddress
import logging
import time

from flask import request
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Serialized thread pages (forum.services.page_cache); configured by forum.config.
cache = Cache()
# Email transports and message building (forum.services.notify.transports); the
# forum's own FORUM_SMTP_URL settings choose the transport, not MAIL_*.
mail = Mail()


def address_key(address: str | None) -> str:
    """What limits count a client address as: an IPv4 address as it is, an IPv6
    address by its /64, the network one subscriber gets (stepping through the
    addresses of one's own /64 must not buy more attempts)."""
    if not address:
        return "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address() -> str:
    return address_key(get_remote_address())


def rate_limit_key() -> str:
    """Signed-in requests count per account, the rest per client address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{client_address()}"


def _safe_method() -> bool:
    return request.method in ("GET", "HEAD", "OPTIONS")


# Every write has a limit: a route without one of its own gets this one, per
# account (or address), counted per route; reads have none.
limiter = Limiter(
    key_func=rate_limit_key,
    default_limits=["120 per minute"],
    default_limits_exempt_when=_safe_method,
)

# Posting and editing, through the pages and the API alike, share one budget: per
# account, and per client address whatever the account (many fresh accounts from
# one machine). An edit renders Markdown as a post does, and once cost no budget
# at all: one account editing in a loop could stall every worker.
POSTING_PER_ACCOUNT = "10 per minute"
POSTING_PER_ADDRESS = "30 per minute"
# Only the writes count: the edit page also answers GET with its form.
_WRITES = ["POST", "PATCH"]
posting_per_account = limiter.shared_limit(POSTING_PER_ACCOUNT, scope="posting", methods=_WRITES)
posting_per_address = limiter.shared_limit(
    POSTING_PER_ADDRESS, scope="posting-address", key_func=client_address, methods=_WRITES
)
# Guests (FORUM_GUESTS=on) have no account to count by: their comments share a
# smaller budget per client address, on top of the one above.
GUEST_POSTING = "3 per minute; 20 per hour; 60 per day"
guest_posting = limiter.shared_limit(
    GUEST_POSTING,
    scope="guest-posting",
    key_func=client_address,
    methods=["POST"],
    exempt_when=lambda: _has_account(),
)


def _has_account() -> bool:
    # A bearer token is checked after the limits are (forum.views.api.base): a
    # false one is refused there, before anything is posted.
    if "Authorization" in request.headers:
        return True
    return bool(current_user and current_user.is_authenticated)


class Counters:
    """The limiter's counters for the limits the forum checks itself (the wait
    after failed sign-ins, reset emails, new embedded threads). Off with
    FORUM_RATELIMIT=off; when the counters' storage fails (Redis or the database
    in trouble), they fail open and say so in the log, as Flask-Limiter's own
    limits do (RATELIMIT_SWALLOW_ERRORS): a limit must never turn into a 500."""

    def hit(self, item, *identifiers: str) -> bool:
        """Count one; False when the window was full already."""
        return self._call("hit", True, item, *identifiers)

    def test(self, item, *identifiers: str) -> bool:
        """Whether one more would fit, counting nothing."""
        return self._call("test", True, item, *identifiers)

    def reset_at(self, item, *identifiers: str) -> float:
        """When the window frees up (epoch seconds)."""
        stats = self._call("get_window_stats", None, item, *identifiers)
        return stats[0] if stats is not None else time.time()

    def clear(self, item, *identifiers: str) -> None:
        self._call("clear", None, item, *identifiers)

    def _call(self, name: str, otherwise, item, *identifiers):
        if not limiter.enabled:
            return otherwise
        try:
            return getattr(limiter.limiter, name)(item, *identifiers)
        except Exception as error:  # any storage's failure, whatever its library
            logging.getLogger(__name__).warning(
                "rate-limit counters unavailable (%s); not counted", type(error).__name__
            )
            return otherwise


counters = Counters()
