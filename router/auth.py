"""Agent tokens and signed web chat sessions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass

from router.errors import AuthError
from router.models import Role
from router.settings import AgentSettings


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an agent, supervisor or admin."""

    agent_id: str
    name: str
    role: Role

    def can(self, role: Role) -> bool:
        order = [Role.AGENT, Role.SUPERVISOR, Role.ADMIN]
        return order.index(self.role) >= order.index(role)


class AgentTokens:
    """Token -> principal. Looked up by SHA-256 of the token, so the lookup time does not depend
    on how much of a guessed token is right."""

    def __init__(self, agents: tuple[AgentSettings, ...]) -> None:
        self._by_hash = {
            hashlib.sha256(a.token.encode()).digest(): Principal(a.id, a.name or a.id, a.role)
            for a in agents
        }

    def verify(self, token: str | None) -> Principal:
        if not token:
            raise AuthError("missing token")
        found = self._by_hash.get(hashlib.sha256(token.encode()).digest())
        if found is None:
            raise AuthError("bad token")
        return found


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SessionSigner:
    """Web chat session tokens: 'v1.<visitor>.<expiry>.<hmac>'. Stateless, so any process can
    check a token another issued, given the shared secret."""

    def __init__(self, secret: bytes, ttl_s: int) -> None:
        self.secret = secret
        self.ttl_s = ttl_s

    def issue(self, visitor: str | None = None, now: float | None = None) -> tuple[str, str]:
        visitor = visitor or "v" + os.urandom(12).hex()
        expiry = int((now or time.time()) + self.ttl_s)
        body = f"v1.{visitor}.{expiry}"
        return f"{body}.{self._sign(body)}", visitor

    def verify(self, token: str | None, now: float | None = None) -> str:
        """Return the visitor id of a valid token; raise AuthError otherwise."""
        if not token or token.count(".") != 3:
            raise AuthError("bad session token")
        body, _, sig = token.rpartition(".")
        if not hmac.compare_digest(sig, self._sign(body)):
            raise AuthError("bad session token")
        _, visitor, expiry = body.split(".")
        if int(expiry) < (now or time.time()):
            raise AuthError("session expired; start a new one")
        return visitor

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest())
