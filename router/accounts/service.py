"""Sign-in and an agent's own credentials: passwords, two-factor codes, API keys, and who a
Bearer token is. Every answer reads Redis, so an agent created, changed or disabled on one
process is signed in, changed or refused on every other at once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from kefu_common.errors import AuthError, ProtocolError, SignInLocked
from router.accounts import apikeys, passwords
from router.accounts.audit import AccountAudit
from router.accounts.throttle import ADDRESS, Throttle
from router.accounts.totp import Totp
from router.auth import AgentTokens, Principal, Sessions
from router.config.accounts import AccountSettings
from router.models import Role
from router.store import Store
from router.store.calls.accounts import TotpStep

ORDER = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


class Accounts:
    def __init__(self, store: Store, settings: AccountSettings, tokens: AgentTokens, sessions: Sessions,
                 audit: AccountAudit, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.records = store.accounts
        self.settings = settings
        self.tokens = tokens
        self.sessions = sessions
        self.audit = audit
        self.totp = Totp(settings.totp_issuer, clock)
        self.throttle = Throttle(store.accounts, settings)

    # -- who is calling ------------------------------------------------------------------------
    async def bearer(self, token: str | None) -> Principal:
        """The caller behind `Authorization: Bearer`: an API key, a signed-in session's token
        (what POST /api/v1/login returns), or an agent's config token."""
        if not token:
            raise AuthError("missing token")
        if apikeys.looks_like(token):
            row = await self.records.key_get(apikeys.digest(token))
            if not row:
                raise AuthError("bad or revoked API key")
            owner = await self.live(row["agent"], "key", key_id=row["id"])
            await self.records.key_touch(apikeys.digest(token))
            role = min(Role(row["role"]), owner.role, key=ORDER.index)  # never more than the owner now has
            return Principal(owner.agent_id, owner.name, role, via="key", key_id=row["id"])
        if token.startswith("v1."):
            who, _ = await self.sessions.verify(token)
            return who
        return await self.live(self.tokens.verify(token).agent_id, "token")

    async def live(self, aid: str, via: str, key_id: str = "") -> Principal:
        live = await self.records.live(aid)
        if not live:
            raise AuthError("no such agent")
        if live.get("disabled") == "1":
            raise AuthError("this account is disabled", status=403)
        return Principal(aid, live.get("name") or aid, Role(live.get("role") or Role.AGENT), via=via, key_id=key_id)

    # -- signing in ----------------------------------------------------------------------------
    async def login(self, aid: object, password: object, otp: object, address: str) -> tuple[Principal, str]:
        """Check id, password and (when enrolled) the code; (who, the session's epoch)."""
        if not isinstance(aid, str) or not aid or len(aid) > 64 or not isinstance(password, str) or not password:
            raise ProtocolError("bad_request", '"id" and "password" are required strings')
        await self.throttle.check(aid, address)
        rec = await self.records.get(aid)
        live = await self.records.live(aid)
        ok = await passwords.verify(rec.get("password"), password)
        if not ok or not live:
            await self._failed(aid, address, "password")
            raise AuthError("wrong id or password")
        if live.get("disabled") == "1":
            await self.audit("login.refused", None, address, aid, reason="disabled")
            raise AuthError("this account is disabled", status=403)
        secret = rec.get("totp")
        if secret:
            if otp in (None, ""):
                raise ProtocolError("otp_required", "enter the 6-digit code from your authenticator app", 401)
            step = self.totp.step(secret, otp)
            if step is None or not await self.store.run(TotpStep(aid, step)):
                await self._failed(aid, address, "otp")
                raise AuthError("wrong or used code")
        await self.throttle.succeeded(aid)
        role = Role(live.get("role") or Role.AGENT)
        pending = "enrol" if not secret and role.value in await self.required_2fa() else ""
        who = Principal(aid, live.get("name") or aid, role, via="session", pending=pending)
        await self.audit("login", who, address, aid, method="password", two_factor=bool(secret))
        return who, rec.get("epoch", "")

    async def _failed(self, aid: str, address: str, what: str) -> None:
        locked = await self.throttle.failed(aid, address)
        await self.audit("login.failed", None, address, aid, failed=what)
        for kind in locked:
            await self.audit("login.locked", None, address, address if kind == ADDRESS else aid, locked=kind,
                             lockout_s=self.settings.lockout_s)
        if locked:
            raise SignInLocked(f"too many failed sign-ins: locked for {self.settings.lockout_s} s",
                               self.settings.lockout_s, locked=True)

    async def epoch(self, aid: str) -> str:
        return (await self.records.get(aid)).get("epoch", "")

    async def required_2fa(self) -> list[str]:
        policy = await self.records.policy()
        return list(policy["require_2fa"]) if policy else [r.value for r in self.settings.require_2fa]

    async def set_required_2fa(self, actor: Principal, roles: object, address: str) -> list[str]:
        if not isinstance(roles, list) or any(r not in [x.value for x in Role] for r in roles):
            raise ProtocolError("bad_request", '"require_2fa" must be a list of roles (agent, supervisor, admin)')
        before = await self.required_2fa()
        await self.records.set_policy([str(r) for r in roles])
        await self.audit("accounts.policy", actor, address, "require_2fa", before={"require_2fa": before},
                         after={"require_2fa": sorted(roles)})
        return sorted(str(r) for r in roles)

    # -- an agent's own credentials -------------------------------------------------------------
    async def set_password(self, aid: str, password: str) -> None:
        """A new password and a new epoch: every session opened with the old one ends."""
        await self.records.put(aid, {"password": passwords.hash_password(password), "epoch": secrets.token_hex(8)})

    async def change_password(self, who: Principal, old: object, new: object, address: str) -> None:
        rec = await self.records.get(who.agent_id)
        if not isinstance(old, str) or not await passwords.verify(rec.get("password"), old):
            raise AuthError("the current password is wrong", status=403)
        await self.set_password(who.agent_id, passwords.check_strength(new, self.settings.password_min_length,
                                                                       who.agent_id))
        await self.audit("account.password", who, address, who.agent_id)

    async def totp_begin(self, who: Principal) -> dict[str, str]:
        """A new secret to enrol (not in force until confirmed with a code): the otpauth URI,
        its QR code as SVG, and the secret for typing in by hand. Shown this once."""
        secret = self.totp.new_secret()
        await self.records.put(who.agent_id, {"totp_pending": secret})
        uri = self.totp.uri(secret, who.agent_id)
        return {"uri": uri, "qr_svg": self.totp.qr_svg(uri), "secret": secret}

    async def totp_confirm(self, who: Principal, sid: str | None, code: object, address: str) -> None:
        rec = await self.records.get(who.agent_id)
        pending = rec.get("totp_pending")
        if not pending:
            raise ProtocolError("no_enrolment", "start two-factor enrolment first", 409)
        step = self.totp.step(pending, code)
        if step is None or not await self.store.run(TotpStep(who.agent_id, step)):
            raise ProtocolError("wrong_code", "the code does not match; check the time on your phone")
        await self.records.put(who.agent_id, {"totp": pending})
        await self.records.drop_fields(who.agent_id, "totp_pending")
        if sid is not None:
            await self.store.session_settle(sid)
        await self.audit("account.totp_enrol", who, address, who.agent_id)

    async def totp_state(self, aid: str) -> dict[str, Any]:
        rec = await self.records.get(aid)
        live = await self.records.live(aid)
        required = (live.get("role") or "agent") in await self.required_2fa()
        return {"enrolled": bool(rec.get("totp")), "required": required, "password": bool(rec.get("password"))}

    # -- API keys ------------------------------------------------------------------------------
    async def key_create(self, who: Principal, label: object, role: object, address: str) -> dict[str, Any]:
        if who.via == "key":
            raise AuthError("an API key cannot make API keys; sign in", status=403)
        scope = Role(role) if isinstance(role, str) and role in [r.value for r in Role] else who.role
        if ORDER.index(scope) > ORDER.index(who.role):
            raise AuthError(f"a {who.role.value} cannot make a {scope.value} key", status=403)
        text = label if isinstance(label, str) else ""
        kid, key = apikeys.new_key()
        await self.records.key_add(apikeys.digest(key), kid, who.agent_id, scope.value, text[:80])
        await self.audit("account.key_create", who, address, who.agent_id, key_id=kid, role=scope.value,
                         label=text[:80])
        return {"id": kid, "key": key, "role": scope.value, "label": text[:80]}

    async def key_list(self, aid: str) -> list[dict[str, Any]]:
        return [{"id": r["id"], "role": r["role"], "label": r.get("label", ""), "created": float(r["created"]),
                 "used": float(r["used"]) if r.get("used") else None} for r in await self.records.keys_of(aid)]

    async def key_revoke(self, who: Principal, kid: str, address: str) -> None:
        rows = await self.records.keys_of(who.agent_id)
        if not who.can(Role.ADMIN) and kid not in {r["id"] for r in rows}:
            raise ProtocolError("not_found", f"no API key {kid}", 404)
        row = await self.records.key_revoke(kid)
        if row is None:
            raise ProtocolError("not_found", f"no API key {kid}", 404)
        await self.audit("account.key_revoke", who, address, row.get("agent") or "", key_id=kid)

