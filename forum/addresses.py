"""Web addresses and origins: one set of rules for every address the forum keeps,
shows or sends a browser to.

- web_address(): an absolute http(s) address with a host, fit to store and show
  (moderators' links, the hook URL, a thread's page, an imported page).
- normalize_origin() / origin_of(): `scheme://host[:port]` of a site allowed to
  embed, or of a page.
- page_address(): a page of one given origin.
- local_path(): where a form may send the browser next: only back into this site.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

ADDRESS_MAX = 2000
ORIGIN_MAX = 200


def _parts(value: str):
    """urlsplit(), or None where the address cannot be read (a port like ":abc",
    an unclosed "[" in the host)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return None
    return parts


def _clean_text(value, max_length: int) -> bool:
    """A string no longer than max_length with nothing a parser might skip or a
    header refuse: no white space, no control characters (NUL included)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= max_length
        and not any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value)
    )


def web_address(value, max_length: int = ADDRESS_MAX) -> str | None:
    """`value` if it is an absolute http:// or https:// address with a host name,
    else None. Nothing is trimmed: callers strip what a person typed first."""
    if not _clean_text(value, max_length):
        return None
    parts = _parts(value)
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def is_web_address(value, max_length: int = ADDRESS_MAX) -> bool:
    return web_address(value, max_length) is not None


def normalize_origin(raw) -> str | None:
    """`scheme://host[:port]` in lower case, or None if `raw` is not an http(s)
    origin (a path, query, credentials or anything else makes it None)."""
    if not isinstance(raw, str) or not raw or len(raw) > ORIGIN_MAX:
        return None
    parts = _parts(raw.strip())
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username or parts.password or parts.query or parts.fragment:
        return None
    if parts.path not in ("", "/"):
        return None
    host = parts.hostname.lower()
    if not all(ch.isalnum() or ch in ".-:[]" for ch in host):
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{parts.port}" if parts.port is not None and parts.port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


def origin_of(url) -> str | None:
    """The origin a page address belongs to, or None."""
    if not isinstance(url, str) or len(url) > ADDRESS_MAX:
        return None
    parts = _parts(url.strip())
    if parts is None or not parts.netloc:
        return None
    return normalize_origin(f"{parts.scheme}://{parts.netloc}")


def page_address(url, origin: str) -> str | None:
    """`url` if it is a web address of a page of `origin`, else None."""
    url = web_address(url)
    return url if url is not None and origin_of(url) == origin else None


def local_path(target, default: str = "/") -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not isinstance(target, str) or not target.startswith("/"):
        return default
    if target.startswith("//") or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = _parts(target)
    if parts is None or parts.scheme or parts.netloc:
        return default
    return target
