"""Where a form may send the browser next: only back into this site."""

from urllib.parse import urlsplit


def safe_next(target, default: str = "/") -> str:
    """target if it is a path on this site, else default (no open redirects)."""
    if not isinstance(target, str) or not target.startswith("/"):
        return default
    if target.startswith("//") or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
