"""Reading identifiers out of query strings and form fields."""

from forum.models import is_id


def parse_id(raw) -> int | None:
    """A positive database id written as plain ASCII digits, or None."""
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    value = int(raw)
    return value if is_id(value) else None
