"""The moderators' alerts webhook (settings alert_webhook_url, _format, _secret):
what it says, in which format, and how one call is made.

The payload is written when a comment is held, in that transaction, as an outbox
row (forum.services.notify.outbox queues it; the delivery passes send it): so a
hold that is rolled back alerts nobody, a failed call is retried with the
outbox's backoff, and a claimed row is never sent by two processes.

- generic: this forum's JSON (`event`, `status`, `comment`, `thread`, `reasons`,
  `queue_url`, and `text`: the alert in words).
- slack: `{"text": ...}` (Slack's incoming webhooks; its mrkdwn escaped).
- discord: `{"content": ...}` (Discord's webhooks; no @mentions, no link previews).

Every call is signed when a secret is set: X-Forum-Signature: sha256=<HMAC-SHA256
of the body, hex>, as the moderation hook's (forum.services.moderation.rules).
X-Forum-Delivery carries the outbox row's id, the same on every retry, so a
receiver can drop a repeat of a call whose answer we never got.

Webhook addresses are secrets too (Slack's and Discord's carry their token in the
path): errors, logs and the outbox's last_error name the host only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import gettext

from forum.addresses import is_web_address
from forum.models import OutboxMessage
from forum.secretbox import SecretUnreadable
from forum.services import settings

FORMATS = ("generic", "slack", "discord")
TIMEOUT_SECONDS = 10.0  # for the whole call, however slowly the answer drips in
ANSWER_READ = 65536  # bytes of an answer read (and thrown away)
DISCORD_LIMIT = 2000  # characters of a Discord message
SLACK_LIMIT = 3000  # characters of Slack's text before it is cut


class WebhookError(Exception):
    """One call failed; the message names the host and what happened, never the
    address or the secret.  `stop`: the receiver (or the configuration) is at
    fault, so the rest of the pass's calls wait for the next pass; `final`: this
    call is not to be made at all, not even later."""

    def __init__(self, message: str, stop: bool = True, final: bool = False):
        super().__init__(message)
        self.stop = stop
        self.final = final  # retrying cannot help: given up at once


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that answers with a redirect has failed: following it would turn
    the POST into a GET, or send the payload somewhere nobody configured."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "?"


# -- what is said -------------------------------------------------------------------


def payload(alert: dict, style: str) -> str:
    """The JSON body of an alert in a format of FORMATS.

    alert (forum.services.notify.alerts.describe()): event ("comment.held" or
    "comment.hidden"), status, created_at, headline and why (in words), reasons
    (rule and English detail), comment (id, url, excerpt, author, created_at),
    thread (key, title, url), queue_url.  Slack's and Discord's text is in the
    current language.
    """
    if style == "slack":
        return json.dumps({"text": _cut(_slack_text(alert), SLACK_LIMIT)})
    if style == "discord":
        return json.dumps(
            {
                "content": _cut(_plain_text(alert), DISCORD_LIMIT),
                # A comment saying "@everyone" must not ping a whole server, and
                # links in it are not fetched for previews.
                "allowed_mentions": {"parse": []},
                "flags": 4,  # SUPPRESS_EMBEDS
            }
        )
    return json.dumps(_generic(alert), default=_iso)


def _generic(alert: dict) -> dict:
    keys = ("event", "status", "created_at", "reasons", "comment", "thread", "queue_url")
    # "text": the same words as Slack's and Discord's, for a receiver that relays them.
    return {**{key: alert[key] for key in keys}, "text": _plain_text(alert)}


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(type(value).__name__)


def _lines(alert: dict, escape, link) -> list[str]:
    comment = alert["comment"]
    author = comment["author"]["display_name"] if comment["author"] else gettext("Someone")
    lines = [
        escape(alert["headline"]),
        escape(gettext("%(name)s wrote: “%(excerpt)s”", name=author, excerpt=comment["excerpt"])),
    ]
    if alert["why"]:
        lines.append(escape(gettext("Why: %(reasons)s", reasons="; ".join(alert["why"]))))
    lines.append(link(alert["queue_url"], gettext("Review it in the queue")))
    return lines


def _slack_text(alert: dict) -> str:
    # Slack reads <…> as links and mentions (<!channel>): readers' words are escaped.
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def link(url: str, words: str) -> str:
        return f"<{url}|{escape(words)}>"

    return "\n".join(_lines(alert, escape, link))


def _plain_text(alert: dict) -> str:
    # Discord's Markdown: the readers' words are shown as they wrote them, mentions
    # are off (allowed_mentions) and the link is shown whole.
    return "\n".join(_lines(alert, lambda text: text, lambda url, words: f"{words}: {url}"))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- one call ----------------------------------------------------------------------


def deliver(message: OutboxMessage) -> None:
    """POST one outbox row to its address, signed with the current secret.
    Raises WebhookError (a 2xx answer is success; anything else is not)."""
    url = message.target_url or ""
    values = settings.current()
    if not is_web_address(url):
        raise WebhookError("webhook: the stored address is not an http(s) address")
    if values.get("alert_webhook_url") != url:
        # Changed or removed since: the old address may be why it was changed.
        raise WebhookError(
            f"webhook to {host_of(url)}: the alerts webhook address changed since this was "
            "queued; not sent",
            stop=False,
            final=True,
        )
    try:
        secret = settings.secret(values, "alert_webhook_secret")
    except SecretUnreadable:
        raise WebhookError(
            "webhook: its signing secret must be set again under Moderation → Settings "
            "(this forum's secret key changed since it was saved)"
        ) from None
    body = message.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "forum-alerts/1",
        "X-Forum-Event": _event(message.body),
        "X-Forum-Delivery": str(message.id),
    }
    if secret:
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Forum-Signature"] = f"sha256={signature}"
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    _call_within_deadline(request, host_of(url))


def _event(body: str) -> str:
    try:
        event = json.loads(body).get("event")
    except (ValueError, AttributeError):
        event = None
    return event if isinstance(event, str) else "comment.held"


def _call_within_deadline(request: urllib.request.Request, host: str) -> None:
    """Make the call in a thread and wait at most TIMEOUT_SECONDS in all (a socket
    timeout alone lets an answer dripping a byte at a time hold the pass)."""
    outcome: dict = {}

    def call():
        try:
            with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                response.read(ANSWER_READ)
                outcome["status"] = response.status
        except urllib.error.HTTPError as error:
            outcome["status"] = error.code
            error.close()
        except Exception as error:  # noqa: BLE001 - said in words below, never raised here
            outcome["error"] = error

    worker = threading.Thread(target=call, daemon=True, name="forum-alert-webhook")
    worker.start()
    worker.join(TIMEOUT_SECONDS)
    if worker.is_alive():
        raise WebhookError(f"webhook to {host}: no answer within {TIMEOUT_SECONDS:g} s")
    if "error" in outcome:
        raise WebhookError(f"webhook to {host}: {_said(outcome['error'])}")
    status = outcome.get("status", 0)
    if not 200 <= status < 300:
        # A refusal of this one payload (400, 413…) says nothing of the next one;
        # a server in trouble, a redirect or a limit (429) does.
        stop = status >= 500 or status in (408, 429) or 300 <= status < 400
        raise WebhookError(f"webhook to {host}: HTTP {status}", stop=stop)


def _said(error: Exception) -> str:
    """A failed call in a few words, without the address (urllib's own messages
    about a malformed one quote it whole)."""
    if isinstance(error, urllib.error.URLError):
        reason = error.reason
        if isinstance(reason, OSError) and reason.strerror:
            return f"{type(reason).__name__}: {reason.strerror}"
        return type(reason).__name__ if isinstance(reason, BaseException) else "URLError"
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: {error.strerror}"
    if isinstance(error, TimeoutError):
        return "timed out"
    return type(error).__name__
