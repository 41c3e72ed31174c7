"""Reading identifiers out of query strings and form fields."""


def parse_id(raw) -> int | None:
    """A positive database id written as plain ASCII digits, or None."""
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    value = int(raw)
    return value or None
