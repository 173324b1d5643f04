"""API keys for scripts and integrations: `kk_<id>_<secret>`, 256 random bits, shown once at
creation and stored only as the SHA-256 of the whole key (a key is random, so a fast hash is
enough, and the lookup time does not depend on how much of a guess is right)."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "kk_"


def new_key() -> tuple[str, str]:
    """(key id, the whole key); the id is public (lists, revocation), the key is shown once."""
    kid = secrets.token_hex(6)
    return kid, f"{PREFIX}{kid}_{secrets.token_urlsafe(32)}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like(token: str) -> bool:
    return token.startswith(PREFIX) and token.count("_") >= 2
