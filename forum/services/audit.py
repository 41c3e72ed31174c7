"""The audit log: who did what, to which comment, user, thread or setting, and why."""

from __future__ import annotations

from forum.extensions import db
from forum.models import AuditEntry, Comment, EmbedSite, Thread, User, utcnow


def audit(actor, action: str, target, reason=None, before=None, after=None) -> AuditEntry:
    """Record one action in the caller's transaction."""
    kind, label = _describe(target)
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=kind,
        target_id=getattr(target, "id", None),
        target_label=label[:200],
        reason=reason,
        before=before or {},
        after=after or {},
        created_at=utcnow(),
    )
    db.session.add(entry)
    return entry


def _describe(target) -> tuple[str, str]:
    if isinstance(target, Comment):
        return "comment", f"comment {target.id} in {target.thread.key}"
    if isinstance(target, User):
        return "user", target.username
    if isinstance(target, Thread):
        return "thread", target.key
    if isinstance(target, EmbedSite):
        return "site", target.origin
    return "settings", "moderation settings"
