"""Agent tokens, the console's sessions, and signed web chat sessions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from typing import Protocol

from kefu_common.errors import AuthError
from router.config.settings import AgentSettings
from router.models import Role
from router.store.accounts import AccountRecords

COOKIE_TTL_S = 12 * 3600
"""An agent's shift: a console session lasts this long after sign-in."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an agent, supervisor or admin."""

    agent_id: str
    name: str
    role: Role
    via: str = "token"
    """How they proved it: 'token' (the config's), 'session' (a sign-in), 'key' (an API key)."""
    pending: str = ""
    """What the session must do before anything else ('enrol': two-factor, which the role requires)."""
    key_id: str = ""

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

    def fingerprint(self, aid: str, signer: SessionSigner) -> str:
        """The agent's current token, keyed and cut short: a session remembers it, so changing an
        agent's token ends their sessions, and a leaked session record does not help guess a weak
        token offline."""
        return hmac.new(signer.secret, self._token_hash[aid], hashlib.sha256).hexdigest()[:16]

    def by_id(self, aid: str) -> Principal | None:
        return self._by_id.get(aid)

    def epoch_fingerprint(self, aid: str, epoch: str, signer: SessionSigner) -> str:
        """A password sign-in's mark: the account's credential epoch, which a password reset
        renews, so every session opened before it ends."""
        return hmac.new(signer.secret, f"epoch:{aid}:{epoch}".encode(), hashlib.sha256).hexdigest()[:16]


class Sessions:
    """The console's sign-ins, kept in Redis so that signing out ends one at once, on every
    process. The cookie is a signed, expiring session id ('v1.<id>.<expiry>.<hmac>'); the
    record holds the agent and their token's fingerprint, and lives as long as the cookie."""

    def __init__(self, store: SessionStore, tokens: AgentTokens, signer: SessionSigner,
                 ttl_s: int = COOKIE_TTL_S) -> None:
        self.store = store
        self.tokens = tokens
        self.signer = signer
        self.ttl_s = ttl_s

    async def open(self, who: Principal, epoch: str | None = None, pending: str = "") -> str:
        """A new session for `who`; returns the cookie value. With `epoch` (a password, OIDC or
        any sign-in without the config token) the session is bound to the account's credential
        epoch; without, to the agent's config token."""
        sid = os.urandom(18).hex()
        fp = self.tokens.epoch_fingerprint(who.agent_id, epoch, self.signer) if epoch is not None \
            else self.tokens.fingerprint(who.agent_id, self.signer)
        await self.store.session_put(sid, who.agent_id, fp, self.ttl_s, pending)
        return _cookie_signer(self.signer, self.ttl_s).issue(sid)[0]

    def session_id(self, cookie: str | None) -> str:
        """The id inside a well-signed, unexpired cookie; AuthError otherwise."""
        if not cookie:
            raise AuthError("not signed in")
        try:
            return _cookie_signer(self.signer, self.ttl_s).verify(cookie)
        except ValueError:  # a forged expiry that is not a number
            raise AuthError("bad session cookie") from None

    async def verify(self, cookie: str | None) -> tuple[Principal, str]:
        """Who the cookie's session belongs to, and the session id."""
        sid = self.session_id(cookie)
        found = await self.holder(sid)
        if found is None:
            raise AuthError("this session has ended; sign in again")
        return found, sid

    async def holder(self, sid: str) -> Principal | None:
        """Who holds the session now, with their live name and role; None once it ended (signed
        out, expired, token or password changed, account disabled)."""
        aid, fp = await self.store.session_get(sid)
        if not aid or fp is None:
            return None
        live = await self.store.accounts.live(aid)
        if not live or live.get("disabled") == "1":
            return None
        marks = [self.tokens.epoch_fingerprint(aid, (await self.store.accounts.get(aid)).get("epoch", ""),
                                               self.signer)]
        if self.tokens.by_id(aid) is not None:
            marks.append(self.tokens.fingerprint(aid, self.signer))
        if not any(hmac.compare_digest(fp, m) for m in marks):
            return None
        return Principal(aid, live.get("name") or aid, Role(live.get("role") or Role.AGENT), via="session",
                         pending=await self.store.session_pending(sid))

    async def close(self, cookie: str | None) -> None:
        """End the cookie's session, if it is one of ours; any other cookie is simply gone."""
        try:
            sid = self.session_id(cookie)
        except AuthError:
            return
        await self.store.session_drop(sid)

    def csrf_token(self, sid: str) -> str:
        """For clients that send neither Origin nor Referer: proof the caller could read our answers."""
        return _b64(hmac.new(self.signer.secret, b"csrf:" + sid.encode(), hashlib.sha256).digest())


class SessionStore(Protocol):
    """What sessions need from the store (router.store.Store)."""

    @property
    def accounts(self) -> AccountRecords: ...
    async def session_put(self, sid: str, agent_id: str, fingerprint: str, ttl_s: int,
                          pending: str = "") -> None: ...
    async def session_get(self, sid: str) -> tuple[str | None, str | None]: ...
    async def session_pending(self, sid: str) -> str: ...
    async def session_drop(self, sid: str) -> None: ...


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
