"""Column types and helpers every table uses: UTC datetimes, the largest id,
enums stored as strings."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Enum,
    TypeDecorator,
)

# The largest value of an INTEGER column (ids, counters) on PostgreSQL: any number
# from a request is checked against it before it reaches a query.
MAX_INT = 2**31 - 1


def is_id(value) -> bool:
    """A plausible row id: a positive int (not a bool) that fits an INTEGER column."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_INT


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on every backend (SQLite hands back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: forum stores only aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_item(type_, obj, autogen_context):
    """Alembic hook: write UTCDateTime into migrations as plain sa.DateTime, so
    migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# "Banned until" for a permanent ban: a real date keeps the column simple to query.
PERMANENT = datetime(9999, 1, 1, tzinfo=UTC)


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as the value strings ("approved"), not names, in a plain VARCHAR.
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda k: [m.value for m in k],
        validate_strings=True,
    )
