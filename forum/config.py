"""Configuration: safe defaults, then instance/config.py, then FORUM_* variables.

The application factory applies its own overrides last (tests use that).
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from forum import limit_storage, links, providers
from forum.models import ModerationMode
from forum.private_files import private_instance_folder

# Every FORUM_* variable the contract names, and the config key it sets.
ENVIRONMENT = {
    "FORUM_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "FORUM_SECRET_KEY": "SECRET_KEY",
    "FORUM_REDIS_URL": "FORUM_REDIS_URL",
    "FORUM_EMBED_ORIGINS": "FORUM_EMBED_ORIGINS",
    "FORUM_RATELIMIT": "FORUM_RATELIMIT",
    "FORUM_MODERATION": "FORUM_MODERATION",
    "FORUM_EMAIL_VERIFICATION": "FORUM_EMAIL_VERIFICATION",
    "FORUM_EDIT_WINDOW_MINUTES": "FORUM_EDIT_WINDOW_MINUTES",
    "FORUM_TOKEN_TTL_HOURS": "FORUM_TOKEN_TTL_HOURS",
    "FORUM_TRUSTED_AFTER": "FORUM_TRUSTED_AFTER",
    "FORUM_PROXY_HOPS": "FORUM_PROXY_HOPS",
    "FORUM_HTTPS": "FORUM_HTTPS",
    "FORUM_SMTP_URL": "FORUM_SMTP_URL",
    "FORUM_SMTP_TIMEOUT": "FORUM_SMTP_TIMEOUT",
    "FORUM_MAIL_FROM": "FORUM_MAIL_FROM",
    "FORUM_BASE_URL": "FORUM_BASE_URL",
    "FORUM_TRUSTED_HOSTS": "FORUM_TRUSTED_HOSTS",
    "FORUM_CACHE_REDIS_URL": "FORUM_CACHE_REDIS_URL",
    "FORUM_OUTBOX_DIR": "FORUM_OUTBOX_DIR",
    "FORUM_MAIL_WORKER": "FORUM_MAIL_WORKER",
    "FORUM_MAIL_INTERVAL": "FORUM_MAIL_INTERVAL",
    "FORUM_CACHE": "FORUM_CACHE",
    "FORUM_DB_POOL_SIZE": "FORUM_DB_POOL_SIZE",
    "FORUM_GUESTS": "FORUM_GUESTS",
    "FORUM_EMAIL_SIGN_IN": "FORUM_EMAIL_SIGN_IN",
    "FORUM_LOCALES": "FORUM_LOCALES",
    # Accounts elsewhere (forum.providers): each variable sets the key of its name.
    **{variable: variable for variable in providers.ENVIRONMENT},
}

DEFAULTS = {
    "SQLALCHEMY_DATABASE_URI": None,  # filled in from the instance path
    "FORUM_REDIS_URL": None,
    "FORUM_EMBED_ORIGINS": "",
    "FORUM_RATELIMIT": "on",
    "FORUM_MODERATION": ModerationMode.POST.value,
    # "required": an account posts only after confirming its address by the
    # emailed link; "optional": the link is sent, posting does not wait for it.
    "FORUM_EMAIL_VERIFICATION": "optional",
    "FORUM_EDIT_WINDOW_MINUTES": 15,
    "FORUM_TOKEN_TTL_HOURS": 24 * 14,
    "FORUM_TRUSTED_AFTER": 3,
    "FORUM_PAGE_SIZE": 50,
    # Replies shown under each top-level comment on the HTML pages; the rest wait
    # behind "N more replies" (a 20,000-reply conversation must not fill a page).
    "FORUM_REPLIES_SHOWN": 10,
    # How often an embedded thread asks whether new comments came in (0: never).
    "FORUM_EMBED_POLL_SECONDS": 30,
    # Reverse proxies in front that set X-Forwarded-For/-Proto/-Host (0: none).
    "FORUM_PROXY_HOPS": 0,
    "FORUM_HTTPS": "0",
    "FORUM_ARGON2_TIME_COST": 3,
    "FORUM_ARGON2_MEMORY_KIB": 64 * 1024,
    # A comment body is at most 10,000 characters; 1 MiB leaves room for JSON and
    # form encoding while refusing anything absurd before it is parsed.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "JSON_SORT_KEYS": False,
    # Email (forum.services.notify.transports). No SMTP URL: messages become .eml files in
    # FORUM_OUTBOX_DIR (default instance/outbox/) instead of being sent.
    "FORUM_SMTP_URL": None,  # smtp://user:pass@host:25, smtp+starttls://…:587, smtps://…:465
    "FORUM_SMTP_TIMEOUT": 10,  # seconds, per connection and command
    "FORUM_MAIL_FROM": "forum <noreply@localhost>",
    # The site's public address for links in emails and feeds, e.g.
    # https://comments.example.org (forum.links). Unset: requests are served only
    # by loopback names (and FORUM_TRUSTED_HOSTS), whose host the links then use.
    "FORUM_BASE_URL": None,
    # More host names requests may come in by (space-separated; ".example.org"
    # takes every subdomain), e.g. an address the health checks use.
    "FORUM_TRUSTED_HOSTS": "",
    "FORUM_OUTBOX_DIR": None,
    "FORUM_MAIL_WORKER": "on",  # "off": no background sender thread (use `mail send`)
    "FORUM_MAIL_INTERVAL": 5,  # seconds between background delivery passes
    "FORUM_MAIL_BATCH": 50,  # messages per pass at most
    # Serialized thread pages, keyed by the thread's version (so never stale): in
    # FORUM_CACHE_REDIS_URL's Redis when set (shared by every worker and host),
    # else in each process. "off": none at all.
    "FORUM_CACHE": "on",
    "FORUM_CACHE_REDIS_URL": None,
    "FORUM_CACHE_ENTRIES": 200,  # per process, for the in-process cache
    "FORUM_CACHE_SECONDS": 24 * 3600,
    # Database connections each process keeps open (PostgreSQL; SQLite ignores
    # it): one per thread that may be in a request at once, plus the mail sender.
    # A burst past it opens up to 10 more, closed again when returned.
    "FORUM_DB_POOL_SIZE": 5,
    # "on": visitors without an account may post with a name (each site and
    # thread may still refuse them); their comments wait in Pending by default.
    "FORUM_GUESTS": "off",
    # "on": the sign-in page offers a one-time sign-in link by email.
    "FORUM_EMAIL_SIGN_IN": "on",
    # Accounts elsewhere readers may sign in with (forum.providers): a dict of
    # name -> {"issuer", "client_id", "client_secret", "label"}; the FORUM_OIDC_*,
    # FORUM_GITHUB_* and FORUM_GOOGLE_* variables add or override entries.
    "FORUM_SIGN_IN_PROVIDERS": {},
}

INTEGER_KEYS = (
    "FORUM_EDIT_WINDOW_MINUTES",
    "FORUM_TOKEN_TTL_HOURS",
    "FORUM_TRUSTED_AFTER",
    "FORUM_PAGE_SIZE",
    "FORUM_REPLIES_SHOWN",
    "FORUM_EMBED_POLL_SECONDS",
    "FORUM_PROXY_HOPS",
    "FORUM_ARGON2_TIME_COST",
    "FORUM_ARGON2_MEMORY_KIB",
    "FORUM_CACHE_ENTRIES",
    "FORUM_CACHE_SECONDS",
    "FORUM_DB_POOL_SIZE",
)


def _switch(name: str, value) -> bool:
    """An on/off setting as a bool; raises ValueError for anything else."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("on", "1", "true", "yes"):
        return True
    if text in ("off", "0", "false", "no", ""):
        return False
    raise ValueError(f"{name} must be on or off, not {value!r}")


def load(app: Flask, overrides=None) -> None:
    """Fill app.config; raises ValueError for a setting that cannot work."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for variable, key in ENVIRONMENT.items():
        if variable in os.environ:
            app.config[key] = os.environ[variable]
    if overrides:
        app.config.from_mapping(overrides)

    # 0700 before anything is kept in it: the secret key, the database, the outbox.
    private_instance_folder(Path(app.instance_path))
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        path = Path(app.instance_path) / "forum.sqlite"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    for key in INTEGER_KEYS:
        app.config[key] = int(app.config[key])
    mode = str(app.config["FORUM_MODERATION"]).lower()
    if mode not in {m.value for m in ModerationMode}:
        choices = ", ".join(m.value for m in ModerationMode)
        raise ValueError(f"FORUM_MODERATION must be one of {choices}, not {mode!r}")
    app.config["FORUM_MODERATION"] = mode
    verification = str(app.config["FORUM_EMAIL_VERIFICATION"]).lower()
    if verification not in ("required", "optional"):
        raise ValueError(
            f"FORUM_EMAIL_VERIFICATION must be required or optional, not {verification!r}"
        )
    app.config["FORUM_EMAIL_VERIFICATION"] = verification
    app.config["FORUM_GUESTS"] = _switch("FORUM_GUESTS", app.config["FORUM_GUESTS"])
    app.config["FORUM_EMAIL_SIGN_IN"] = _switch(
        "FORUM_EMAIL_SIGN_IN", app.config["FORUM_EMAIL_SIGN_IN"]
    )
    # Parsed once: a provider configured by half stops the start here.
    app.config["FORUM_PROVIDERS"] = providers.load(app.config)
    app.config["RATELIMIT_ENABLED"] = str(app.config["FORUM_RATELIMIT"]).lower() != "off"
    app.config["RATELIMIT_STORAGE_URI"] = app.config["FORUM_REDIS_URL"] or _database_counters(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    # A Redis that stops answering: each process keeps counting in memory until it
    # is back, instead of failing the request.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    app.config["RATELIMIT_SWALLOW_ERRORS"] = True
    app.config["FORUM_BASE_URL"] = links.check_base_url(app.config["FORUM_BASE_URL"])
    # Flask answers 400 to any other Host (or X-Forwarded-Host, behind proxies).
    app.config["TRUSTED_HOSTS"] = links.trusted_hosts(
        app.config["FORUM_BASE_URL"], app.config["FORUM_TRUSTED_HOSTS"]
    )
    _cache_settings(app.config)
    _pool_settings(app.config)
    if str(app.config["FORUM_HTTPS"]).lower() in ("1", "true", "on", "yes"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"


def _database_counters(database_url: str) -> str:
    """Where rate-limit counters go without Redis: the database, which every
    worker and host shares (forum.limit_storage), when it is one of those the
    forum is tested on; else each process's memory."""
    try:
        url = make_url(database_url)
    except ArgumentError as error:
        raise ValueError(f"FORUM_DATABASE_URL is not a database address: {error}") from error
    if url.get_backend_name() not in limit_storage.DIALECTS or url.database in (
        None,
        "",
        ":memory:",
    ):
        return "memory://"
    return f"{limit_storage.SCHEME}://"


def _cache_settings(cfg) -> None:
    """Flask-Caching's settings from FORUM_CACHE and FORUM_REDIS_URL."""
    switch = str(cfg["FORUM_CACHE"]).lower()
    if switch not in ("on", "off"):
        raise ValueError(f"FORUM_CACHE must be on or off, not {switch!r}")
    cfg["FORUM_CACHE"] = switch
    cfg["CACHE_DEFAULT_TIMEOUT"] = cfg["FORUM_CACHE_SECONDS"]
    cfg["CACHE_KEY_PREFIX"] = "forum:"
    if cfg["FORUM_CACHE_REDIS_URL"] and not cfg["FORUM_BASE_URL"]:
        raise ValueError(
            "FORUM_CACHE_REDIS_URL needs FORUM_BASE_URL: shared page copies carry the "
            "site's address, which must not come from each request"
        )
    if cfg["FORUM_CACHE_REDIS_URL"] and _same_server(
        cfg["FORUM_CACHE_REDIS_URL"], cfg["FORUM_REDIS_URL"]
    ):
        raise ValueError(
            "FORUM_CACHE_REDIS_URL must name another Redis server than FORUM_REDIS_URL: "
            "one server has one memory bound, so page copies would evict rate-limit counters"
        )
    if switch == "off":
        cfg["CACHE_TYPE"] = "NullCache"
        cfg["CACHE_NO_NULL_WARNING"] = True
    elif cfg["FORUM_CACHE_REDIS_URL"]:
        # A Redis of their own for page copies: they must never share an eviction
        # pool with the rate-limit counters in FORUM_REDIS_URL (a flood of copies
        # would evict the sign-in throttle). README: "Redis".
        cfg["CACHE_TYPE"] = "RedisCache"
        cfg["CACHE_REDIS_URL"] = cfg["FORUM_CACHE_REDIS_URL"]
        # A Redis that stops answering costs a read this long, then the page is built.
        cfg["CACHE_OPTIONS"] = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    else:
        cfg["CACHE_TYPE"] = "SimpleCache"
        cfg["CACHE_THRESHOLD"] = cfg["FORUM_CACHE_ENTRIES"]


def _same_server(first: str, second: str | None) -> bool:
    if not second:
        return False

    def where(url: str) -> tuple:
        parts = urlsplit(url)
        if parts.scheme == "unix":
            return ("unix", parts.path)
        host = (parts.hostname or "").lower()
        # One machine's loopback by any of its names.
        host = "loopback" if host in ("localhost", "::1") or host.startswith("127.") else host
        return (host, parts.port or 6379)

    return where(first) == where(second)


def _pool_settings(cfg) -> None:
    """The connection pool per process, for client-server databases."""
    options = dict(cfg["SQLALCHEMY_ENGINE_OPTIONS"])
    if str(cfg["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # A file needs no ping before each request: it cannot have hung up.
        options["pool_pre_ping"] = False
    else:
        size = cfg["FORUM_DB_POOL_SIZE"]
        if size < 1:
            raise ValueError(f"FORUM_DB_POOL_SIZE must be at least 1, not {size}")
        options.setdefault("pool_size", size)
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _instance_secret(instance: Path) -> str:
    """The key kept in instance/secret_key, made on first start (mode 0600)."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
