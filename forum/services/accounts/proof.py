"""Proof of work for guests: a little of the visitor's processor time per comment,
so that posting thousands costs a robot real work while a person never notices.

Hashcash-style and self-hosted, no third party. The server hands out a signed
challenge naming a difficulty in bits; the browser counts nonces until
SHA-256("<challenge>:<nonce>") starts with that many zero bits (16 bits: about
65,000 hashes, a few hundred milliseconds in a browser) and posts the nonce
with the comment. Checking costs one HMAC and one SHA-256, microseconds. A
challenge works once (forum.services.single_use) and for LIFETIME; the time it
was issued also tells how long the comment took to write (see rules.guest_checks).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from forum.models import utcnow
from forum.services import settings, single_use

SALT = "forum.guest-proof"
PURPOSE = "guest-proof"
LIFETIME = timedelta(minutes=30)
NONCE_MAX = 20  # characters: a decimal counter never needs more
CHALLENGE_MAX = 200


@dataclass(frozen=True)
class Proof:
    """What a checked proof tells: whether it holds, and how long ago its
    challenge was handed out (None when there was no valid proof)."""

    valid: bool
    seconds: float | None = None
    problem: str | None = None


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def difficulty() -> int:
    return int(settings.current()["guest_proof_bits"])


def issue() -> dict:
    """A fresh challenge: {"challenge", "bits", "expires_at"}."""
    bits = difficulty()
    challenge = _signer().dumps([secrets.token_hex(8), bits])
    return {"challenge": challenge, "bits": bits, "expires_at": utcnow() + LIFETIME}


def leading_zero_bits(digest: bytes) -> int:
    count = 0
    for byte in digest:
        if byte:
            return count + 8 - byte.bit_length()
        count += 8
    return count


def solve(challenge: str, bits: int) -> str:
    """The first nonce that meets the challenge (what the browser does; tests use it)."""
    nonce = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)


def check(proof) -> Proof:
    """Check a {"challenge", "nonce"} a guest sent, and spend it.

    Never raises: a missing or bad proof is not an error the guest can fix by
    hand, so the comment is taken and held for a moderator instead
    (rules.guest_checks); `problem` says why, for the moderators' note.
    """
    if proof is None:
        return Proof(False, problem="no proof of work was sent")
    challenge, nonce = proof.get("challenge"), proof.get("nonce")
    if not (
        isinstance(challenge, str)
        and isinstance(nonce, str)
        and len(challenge) <= CHALLENGE_MAX
        and 0 < len(nonce) <= NONCE_MAX
        and nonce.isascii()
        and nonce.isdigit()
    ):
        return Proof(False, problem="the proof of work was malformed")
    try:
        (salt, bits), issued = _signer().loads(
            challenge, max_age=int(LIFETIME.total_seconds()), return_timestamp=True
        )
    except (BadData, ValueError, TypeError, UnicodeError):
        return Proof(False, problem="the challenge was not ours or has expired")
    if not isinstance(bits, int) or bits < difficulty() or not isinstance(salt, str):
        return Proof(False, problem="the challenge was easier than this forum asks")
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    if leading_zero_bits(digest) < bits:
        return Proof(False, problem="the proof of work did not meet the challenge")
    issued = issued.replace(tzinfo=UTC) if issued.tzinfo is None else issued
    if not single_use.spend(PURPOSE, salt, issued + LIFETIME):
        return Proof(False, problem="the challenge was used before")
    return Proof(True, seconds=max(0.0, (datetime.now(UTC) - issued).total_seconds()))
