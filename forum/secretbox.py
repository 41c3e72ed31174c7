"""Secrets the forum must use in the clear but should not store in the clear.

The publishers' sign-on secrets (HS256 keys) and the moderation hook's signing
secret (an HMAC key) are needed as they are, so they cannot be hashed; they are
stored sealed instead: Fernet (AES-128-CBC with HMAC-SHA256) under a key derived
from the app's SECRET_KEY by HKDF-SHA256 with the fixed labels below. A copy of
the database alone (a stolen file or backup) then gives them away no more than
it gives away the session cookies' key.

A sealed value is PREFIX + the Fernet token, so it is told apart from a plain
value stored before sealing began: unseal() returns such a value as it is, and
migration 0011 seals the ones already stored.

Changing SECRET_KEY makes every sealed value unreadable (SecretUnreadable) unless
the old key stays in SECRET_KEY_FALLBACKS: the secrets must then be set again.
This module imports nothing from `forum`.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "sealed1:"
# HKDF's salt and info: fixed, so the same SECRET_KEY always gives the same key,
# and different from any other use of SECRET_KEY (sessions, unsubscribe links).
HKDF_SALT = b"forum secretbox"
HKDF_INFO = b"forum: secrets at rest, Fernet key v1"


class SecretUnreadable(Exception):
    """A sealed value that this SECRET_KEY cannot open (the key changed, or the
    value was damaged): the secret must be set again."""


def seal(plain: str, secret_key: str | bytes | None = None) -> str:
    """`plain` sealed for storage (the app's SECRET_KEY unless one is given)."""
    token = _fernet(secret_key).encrypt(plain.encode("utf-8"))
    return PREFIX + token.decode("ascii")


def unseal(stored: str, secret_key: str | bytes | None = None) -> str:
    """The secret a stored value holds; a plain value from before sealing is
    returned as it is. Raises SecretUnreadable when it cannot be opened."""
    if not is_sealed(stored):
        return stored
    if secret_key is None:
        # The key in force, then the retired ones Flask still accepts for sessions
        # (SECRET_KEY_FALLBACKS): rotating the key as Flask documents keeps the
        # secrets readable until they are set again.
        keys = [current_app.secret_key, *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
        box = MultiFernet([_fernet(key) for key in keys if key])
    else:
        box = _fernet(secret_key)
    try:
        return box.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SecretUnreadable(
            "A stored secret cannot be read with this SECRET_KEY: set it again."
        ) from None


def is_sealed(stored) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX)


def _fernet(secret_key: str | bytes | None) -> Fernet:
    if secret_key is None:
        secret_key = current_app.secret_key
    if not secret_key:
        raise RuntimeError("Sealing secrets needs a SECRET_KEY.")
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("utf-8")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        secret_key
    )
    return Fernet(base64.urlsafe_b64encode(key))
