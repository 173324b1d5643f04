"""Password hashes: argon2id (argon2-cffi's RFC 9106 low-memory profile). Checks run in a
thread, so a burst of sign-ins does not stall the event loop for ~50 ms each."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kefu_common.errors import ProtocolError

_hasher = PasswordHasher()
_DUMMY = _hasher.hash(secrets.token_hex(16))
"""Checked against when the id has no password, so an unknown id costs the same time."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_strength(password: object, min_length: int, who: str) -> str:
    """The password when it is acceptable; a 400 saying why otherwise (never echoing it)."""
    if not isinstance(password, str) or len(password) < min_length:
        raise ProtocolError("weak_password", f"a password must be at least {min_length} characters",
                            params={"rule": "short", "limit": min_length})
    if len(password) > 1024:
        raise ProtocolError("weak_password", "a password must be at most 1024 characters",
                            params={"rule": "long", "limit": 1024})
    if password.lower() in (who.lower(), "password", "1234567890", "12345678") or len(set(password)) < 4:
        raise ProtocolError("weak_password", "this password is too easy to guess", params={"rule": "common"})
    return password


def new_password() -> str:
    """A one-time password an admin hands on (reset, a new agent): 16 characters, ~95 bits."""
    return secrets.token_urlsafe(12)


async def verify(stored: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
