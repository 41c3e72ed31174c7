"""The visitor who posts as a guest, from the article page's form or the API."""

from __future__ import annotations

from flask import current_app, request, session

from forum.models import Thread, User
from forum.services.accounts import guests

# The session remembers the guest this browser last posted as, so its next
# comment under the same name and address is the same guest's.
SESSION_KEY = "guest"


def guest_arrives(
    thread: Thread, name, email, proof_data, trap, key=None
) -> tuple[User, guests.Signals]:
    """The guest to post as and the signals for the rules (a new guest's address
    is mailed its confirmation link). Raises Unauthorized or ValidationError."""
    has_cookie = current_app.config["SESSION_COOKIE_NAME"] in request.cookies
    known = session.get(SESSION_KEY)
    guest, signals = guests.arrive(thread, name, email, proof_data, trap, known, key)
    # An API call without a cookie (the embed's frame) starts no session.
    if has_cookie or request.blueprint != "api":
        session[SESSION_KEY] = guest.id
    return guest, signals
