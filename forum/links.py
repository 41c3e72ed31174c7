"""Absolute addresses of the forum's own pages, for what it writes for later:
emails, feeds, the thread address in the API, permalinks handed to publishers.

They come from FORUM_BASE_URL, the site's public address.  Without it they use
the host the request came in by, and only because forum.config then lets
requests in by loopback names alone (and FORUM_TRUSTED_HOSTS): Flask refuses any
other Host or X-Forwarded-Host with a 400 before a view runs, so a made-up host
can never reach a password-reset email.  Outside a request (the CLI, the mail
sender) and without a base URL an address is the path alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

# The names a development server answers by; anything else needs FORUM_BASE_URL
# or FORUM_TRUSTED_HOSTS.  (IPv6 [::1] is not among them: Werkzeug cannot match
# a bracketed name in its trusted list.)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def base() -> str:
    """The site's address without a trailing slash, or "" when nothing says it."""
    configured = current_app.config.get("FORUM_BASE_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return ""


def external(endpoint: str, **values) -> str:
    """The absolute address of a page of the forum (see the module's note)."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return base() + adapter.build(endpoint, values)


def host() -> str:
    """The site's host name, lower case ("" when nothing says it)."""
    return (urlsplit(base()).hostname or "").lower()


def check_base_url(value) -> str | None:
    """FORUM_BASE_URL as the forum uses it (no trailing slash), or None when unset;
    raises ValueError for anything but an http(s) address without query or fragment."""
    if value in (None, ""):
        return None
    text = str(value).strip().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ValueError(f"FORUM_BASE_URL is not an address: {value!r}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"FORUM_BASE_URL must start with http:// or https://, not {value!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"FORUM_BASE_URL must be a plain address, not {value!r}")
    return text


def trusted_hosts(base_url: str | None, extra) -> list[str]:
    """The host names requests may come in by: the base URL's, those of
    FORUM_TRUSTED_HOSTS (space-separated; ".example.org" takes every subdomain),
    and the loopback names."""
    names = []
    if base_url:
        names.append(urlsplit(base_url).hostname.lower())
    names += [word.lower() for word in str(extra or "").split()]
    names += LOOPBACK_HOSTS
    return list(dict.fromkeys(names))
