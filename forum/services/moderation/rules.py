"""The automatic holds: an ordered pipeline every new or edited comment passes.

Each phase looks at one thing and may refuse the comment (raising), raise its
status (approved -> pending -> spam) or add a reason; the reasons are stored on
the comment and shown to moderators beside it.  Moderators' own comments skip
the pipeline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, select

from forum import permissions
from forum.errors import Forbidden, ValidationError
from forum.extensions import db
from forum.models import Comment, CommentStatus, ModerationMode, Thread, User
from forum.secretbox import SecretUnreadable
from forum.services import settings
from forum.services.moderation.wordmatch import WordList

log = logging.getLogger(__name__)
SEVERITY = {CommentStatus.APPROVED: 0, CommentStatus.PENDING: 1, CommentStatus.SPAM: 2}
HOOK_TIMEOUT_SECONDS = 2.0
_LINK = re.compile(r"<a\s[^>]*href=")


@dataclass
class Submission:
    """A comment on its way in, and what the phases decided about it."""

    author: User
    thread: Thread
    body: str
    html: str
    mode: ModerationMode
    settings: dict
    now: datetime
    comment: Comment | None = None  # the stored comment, when this is an edit
    # For a guest's comment: the proof of work and the trap field (guests.Signals).
    guest: object | None = None
    status: CommentStatus = CommentStatus.APPROVED
    reasons: list[dict] = field(default_factory=list)

    def hold(self, status: CommentStatus, rule: str, detail: str, **extra) -> None:
        """Hold the comment: `detail` is the English kept for the API and the log;
        `args` (in extra) are what forum.vocabulary.hold_reason says it with in a
        moderator's own language."""
        if SEVERITY[status] > SEVERITY[self.status]:
            self.status = status
        self.reasons.append({"rule": rule, "detail": detail, **extra})


Phase = Callable[[Submission], None]


def banned_words(sub: Submission) -> None:
    found = WordList(sub.settings["banned_words"]).find(sub.body)
    if not found:
        return
    words = [m.found for m in found]
    if sub.settings["banned_action"] == "refuse":
        raise ValidationError(
            fields={
                "body": gettext(
                    "Please remove words this forum does not allow: %(words)s.",
                    words=", ".join(words),
                )
            }
        )
    sub.hold(CommentStatus.SPAM, "banned_word", f"Banned: {', '.join(words)}", words=words)


def suspect_words(sub: Submission) -> None:
    found = WordList(sub.settings["suspect_words"]).find(sub.body)
    if found:
        words = [m.found for m in found]
        sub.hold(CommentStatus.PENDING, "suspect_word", f"Suspect: {', '.join(words)}", words=words)


def _in_domains(domain: str, listed) -> bool:
    """domain is a listed one or below it (mail.spam.example is under spam.example)."""
    return any(
        domain == entry or domain.endswith("." + entry)
        for entry in (d.strip().lower().lstrip("@.") for d in listed)
        if entry
    )


def email_domain(sub: Submission) -> None:
    if not sub.author.email_key:
        return  # a single-sign-on account whose publisher gave no usable address
    domain = sub.author.email_key.rpartition("@")[2]
    if _in_domains(domain, sub.settings["banned_email_domains"]):
        raise Forbidden(gettext("Accounts with this email domain cannot post here."))
    if _in_domains(domain, sub.settings["premoderated_email_domains"]):
        sub.hold(
            CommentStatus.PENDING,
            "email_domain",
            f"Pre-moderated email domain {domain}",
            args={"domain": domain},
        )


def rejection_rate(sub: Submission) -> None:
    """Among the author's latest comments (published at once or after review),
    the share that moderators removed."""
    window = sub.settings["rejection_window"]
    recent = db.session.scalars(
        select(Comment.status)
        .where(
            Comment.author_id == sub.author.id,
            Comment.status.in_(
                [CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.SPAM]
            ),
        )
        .order_by(Comment.created_at.desc())
        .limit(window)
    ).all()
    bad = sum(1 for s in recent if s in (CommentStatus.REJECTED, CommentStatus.SPAM))
    if bad < 3:  # a couple of removals is a bad day, not a pattern
        return
    if bad / len(recent) >= sub.settings["rejection_threshold"]:
        sub.hold(
            CommentStatus.PENDING,
            "rejection_rate",
            f"{bad} of the author's last {len(recent)} comments were removed by moderators",
            args={"bad": bad, "total": len(recent)},
        )


def too_many_links(sub: Submission) -> None:
    links = len(_LINK.findall(sub.html))
    if links > sub.settings["max_links"]:
        sub.hold(CommentStatus.PENDING, "links", f"{links} links", args={"num": links})


def duplicate(sub: Submission) -> None:
    since = sub.now - timedelta(hours=sub.settings["duplicate_hours"])
    query = select(Comment.id).where(
        Comment.author_id == sub.author.id,
        Comment.body == sub.body,
        Comment.created_at >= since,
        Comment.status != CommentStatus.DELETED,
    )
    if sub.comment is not None:
        query = query.where(Comment.id != sub.comment.id)
    if db.session.scalar(query.limit(1)) is not None:
        sub.hold(CommentStatus.SPAM, "duplicate", "Same text posted again by the same account")


def new_account_burst(sub: Submission) -> None:
    age = sub.now - sub.author.created_at
    if age >= timedelta(minutes=sub.settings["new_account_minutes"]) or sub.comment is not None:
        return
    posted = db.session.scalar(
        select(func.count(Comment.id)).where(Comment.author_id == sub.author.id)
    )
    if posted >= sub.settings["new_account_comments"]:
        minutes = max(1, int(age.total_seconds() // 60))
        sub.hold(
            CommentStatus.PENDING,
            "new_account",
            f"Comment {posted + 1} from an account {minutes} minute(s) old",
            args={"nth": posted + 1, "num": minutes},
        )


def guest_checks(sub: Submission) -> None:
    """A guest's comment: robots caught by the trap field go to Spam; no valid
    proof of work, or a form sent within seconds, waits for a moderator; and
    under guest_moderation "pre" (the default) every guest comment waits."""
    if not sub.author.is_guest:
        return
    signals = sub.guest
    if signals is not None and signals.trap_filled:
        sub.hold(CommentStatus.SPAM, "guest_trap", "A field only robots fill was filled in")
    if signals is None or not signals.proof.valid:
        problem = signals.proof.problem if signals is not None else "no proof of work was sent"
        sub.hold(
            CommentStatus.PENDING,
            "guest_unproven",
            f"Guest comment: {problem}",
            args={"problem": problem},
        )
    elif signals.proof.seconds < sub.settings["guest_min_seconds"]:
        sub.hold(
            CommentStatus.PENDING,
            "guest_fast",
            f"Guest comment sent {signals.proof.seconds:.0f} s after the form opened",
            args={"num": round(signals.proof.seconds)},
        )
    if sub.settings["guest_moderation"] == "pre":
        sub.hold(CommentStatus.PENDING, "guest", "Comments from guests wait for review")


def external_hook(sub: Submission) -> None:
    """Ask the newsroom's own service; any failure means it has no opinion."""
    url = sub.settings["hook_url"]
    if not url:
        return
    try:
        key = settings.secret(sub.settings, "hook_secret")
    except SecretUnreadable:
        log.warning(
            "moderation hook gave no opinion: its signing secret must be set again under "
            "Moderation → Settings (this forum's secret key changed since it was saved)"
        )
        return
    payload = json.dumps(
        {
            "body": sub.body,
            "html": sub.html,
            "author": {
                "username": sub.author.username,
                "display_name": sub.author.display_name,
                "guest": sub.author.is_guest,
                "created_at": sub.author.created_at.isoformat(),
            },
            "thread": {"key": sub.thread.key, "title": sub.thread.title},
            "edit": sub.comment is not None,
        }
    ).encode()
    signature = hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={"Content-Type": "application/json", "X-Forum-Signature": f"sha256={signature}"},
    )
    answer = _ask_within_deadline(request)
    if not isinstance(answer, dict):
        return
    verdict = answer.get("action")
    reason = str(answer.get("reason") or "")[:200]
    if verdict == "refuse":
        # The service's own words, in its language; ours when it gave none.
        raise ValidationError(fields={"body": reason or gettext("This comment was not accepted.")})
    if verdict in ("hold", "spam"):
        status = CommentStatus.SPAM if verdict == "spam" else CommentStatus.PENDING
        sub.hold(
            status,
            "hook",
            f"Moderation service: {reason or verdict}",
            args={"reason": reason or verdict},
        )


def _ask_within_deadline(request: urllib.request.Request):
    """The hook's JSON answer, or None if it fails or takes longer than the deadline
    in all (a socket timeout alone would let a slow drip of bytes hold the request)."""
    result: dict = {}

    def ask():
        try:
            with urllib.request.urlopen(request, timeout=HOOK_TIMEOUT_SECONDS) as response:
                result["answer"] = json.loads(response.read(65536))
        except Exception as error:  # noqa: BLE001  (any failure is "no opinion")
            result["error"] = type(error).__name__

    worker = threading.Thread(target=ask, daemon=True, name="moderation-hook")
    worker.start()
    worker.join(HOOK_TIMEOUT_SECONDS)
    if worker.is_alive():
        log.warning("moderation hook gave no opinion: no answer within %ss", HOOK_TIMEOUT_SECONDS)
        return None
    if "error" in result:
        log.warning("moderation hook gave no opinion: %s", result["error"])
        return None
    return result.get("answer")


def moderation_mode(sub: Submission) -> None:
    if sub.mode == ModerationMode.PRE:
        sub.hold(CommentStatus.PENDING, "pre_moderation", "This thread is pre-moderated")
    elif sub.mode == ModerationMode.TRUSTED:
        approved = approved_since_last_removal(sub.author)
        needed = sub.settings["trusted_after"]
        if approved < needed:
            sub.hold(
                CommentStatus.PENDING,
                "not_yet_trusted",
                f"{approved} of {needed} approved comments needed to post directly",
            )


def approved_since_last_removal(author: User) -> int:
    """Approved comments since the author's last rejected or spam one (trusted mode)."""
    last_removal = (
        select(func.max(Comment.moderated_at))
        .where(
            Comment.author_id == author.id,
            Comment.status.in_([CommentStatus.REJECTED, CommentStatus.SPAM]),
        )
        .scalar_subquery()
    )
    return db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.author_id == author.id,
            Comment.status == CommentStatus.APPROVED,
            (last_removal.is_(None)) | (Comment.created_at > last_removal),
        )
    )


PHASES: list[Phase] = [
    banned_words,
    email_domain,
    duplicate,
    suspect_words,
    too_many_links,
    rejection_rate,
    new_account_burst,
    guest_checks,
    external_hook,
    moderation_mode,
]


def review(sub: Submission) -> Submission:
    """Run every phase in order; raises ValidationError or Forbidden to refuse."""
    if permissions.is_moderator(sub.author):
        return sub
    for phase in PHASES:
        phase(sub)
    return sub
