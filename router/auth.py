"""Agent tokens and signed web chat sessions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass

from kefu_common.errors import AuthError
from router.config.settings import AgentSettings
from router.models import Role

COOKIE_TTL_S = 12 * 3600
"""An agent's shift: a console session lasts this long after sign-in."""


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
        self._token_hash = {a.id: hashlib.sha256(a.token.encode()).digest() for a in agents}
        self._by_id = {p.agent_id: p for p in self._by_hash.values()}

    def verify(self, token: str | None) -> Principal:
        if not token:
            raise AuthError("missing token")
        found = self._by_hash.get(hashlib.sha256(token.encode()).digest())
        if found is None:
            raise AuthError("bad token")
        return found

    # The console's session cookie: a signed '<agent>~<token fingerprint>' that expires, so the
    # token itself never sits in a cookie, and changing an agent's token ends their sessions.
    def issue_cookie(self, who: Principal, signer: SessionSigner, ttl_s: int = COOKIE_TTL_S) -> str:
        fp = self._fingerprint(who.agent_id, signer)
        body = _b64(f"{who.agent_id}~{fp}".encode())  # ids may hold dots
        return _cookie_signer(signer, ttl_s).issue(body)[0]

    def verify_cookie(self, cookie: str | None, signer: SessionSigner) -> Principal:
        if not cookie:
            raise AuthError("not signed in")
        try:
            body = _cookie_signer(signer, COOKIE_TTL_S).verify(cookie)
            aid, _, fp = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().partition("~")
        except AuthError:
            raise
        except ValueError:  # a forged body that is not base64 or not a number
            raise AuthError("bad session cookie") from None
        found = self._by_id.get(aid)
        if found is None or not hmac.compare_digest(fp, self._fingerprint(aid, signer)):
            raise AuthError("this session has ended; sign in again")
        return found

    def _fingerprint(self, aid: str, signer: SessionSigner) -> str:
        """Keyed, so a cookie that leaks says nothing that helps guess a weak token offline."""
        return hmac.new(signer.secret, self._token_hash[aid], hashlib.sha256).hexdigest()[:16]


def _cookie_signer(signer: SessionSigner, ttl_s: int) -> SessionSigner:
    """A signer with its own key derived from the web chat secret: a customer's session token
    must never pass as an agent's cookie, or the other way round."""
    return SessionSigner(hmac.new(signer.secret, b"kefu agent console", hashlib.sha256).digest(), ttl_s)


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
