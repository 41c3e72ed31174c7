"""JSON API v1 (CONTRACT.md section 3): one blueprint, its endpoints in modules."""

from forum.views.api import core, moderation, people, readers
from forum.views.api.base import bp

__all__ = ["bp", "core", "moderation", "people", "readers"]
