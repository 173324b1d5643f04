"""Agent accounts as the sign-in reads and writes them (router/accounts/): credentials, API key
digests, sign-in failures and locks, and the live account policy. Secrets are stored only as
hashes (passwords: argon2; API keys: SHA-256 of a 256-bit random key); TOTP secrets must be
readable to check a code, so they are kept as they are, in Redis, and never shown again."""

from __future__ import annotations

import json
import time
from typing import Any

from router.store.keys import Keys

WAIT, LOCK = "wait", "lock"


class AccountRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    # -- credentials ---------------------------------------------------------------------------
    async def get(self, aid: str) -> dict[str, str]:
        """The agent's credential record (empty when they have none)."""
        found: dict[str, str] = await self._r.hgetall(self._k.account(aid))
        return found

    async def put(self, aid: str, fields: dict[str, str | int | float]) -> None:
        await self._r.hset(self._k.account(aid), mapping=fields)

    async def put_new(self, aid: str, field: str, value: str) -> bool:
        """Set `field` only when the record has none (the config's seed password)."""
        return bool(await self._r.hsetnx(self._k.account(aid), field, value))

    async def drop_fields(self, aid: str, *fields: str) -> None:
        if fields:
            await self._r.hdel(self._k.account(aid), *fields)

    # -- the agent hash in {rt}: the disabled flag and the mark of a live edit -------------------
    async def set_disabled(self, aid: str, disabled: bool) -> None:
        """Flag the agent in their routing hash: status.lua refuses to bring a disabled agent
        online (their console, the roster or a supervisor), and the list shows it."""
        if disabled:
            await self._r.hset(self._k.agent(aid), "disabled", "1")
        else:
            await self._r.hdel(self._k.agent(aid), "disabled")

    async def mark_edited(self, aid: str) -> None:
        """The agent was created or changed live: from now on Redis holds the truth and the
        config's seeding leaves them alone (Store.sync_config)."""
        await self._r.hset(self._k.agent(aid), "edited", time.time())

    async def live(self, aid: str) -> dict[str, str]:
        """id, name, role, disabled and edited of the agent's routing hash (empty if unknown)."""
        vals = await self._r.hmget(self._k.agent(aid), "id", "name", "role", "disabled", "edited")
        if vals[0] is None:
            return {}
        return {k: v for k, v in zip(("id", "name", "role", "disabled", "edited"), vals, strict=True) if v is not None}

    # -- sessions of an agent ------------------------------------------------------------------
    async def add_session(self, aid: str, sid: str, ttl_s: int) -> None:
        pipe = self._r.pipeline(transaction=False)
        pipe.sadd(self._k.account_sessions(aid), sid)
        pipe.expire(self._k.account_sessions(aid), ttl_s)
        await pipe.execute()

    async def take_sessions(self, aid: str) -> list[str]:
        """The agent's session ids, forgotten here (the caller ends each one)."""
        pipe = self._r.pipeline(transaction=True)
        pipe.smembers(self._k.account_sessions(aid))
        pipe.delete(self._k.account_sessions(aid))
        sids, _ = await pipe.execute()
        return sorted(sids)

    # -- API keys ------------------------------------------------------------------------------
    async def key_add(self, digest: str, kid: str, owner: str, role: str, label: str) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(self._k.api_key(digest), mapping={"id": kid, "agent": owner, "role": role, "label": label,
                                                   "created": time.time()})
        pipe.hset(self._k.api_keys_of(owner), kid, digest)
        pipe.hset(self._k.api_key_ids, kid, digest)
        await pipe.execute()

    async def key_get(self, digest: str) -> dict[str, str]:
        found: dict[str, str] = await self._r.hgetall(self._k.api_key(digest))
        return found

    async def key_touch(self, digest: str) -> None:
        await self._r.hset(self._k.api_key(digest), "used", time.time())

    async def keys_of(self, aid: str) -> list[dict[str, str]]:
        """The agent's keys (never a secret: the store has none), oldest first."""
        digests = list((await self._r.hgetall(self._k.api_keys_of(aid))).values())
        pipe = self._r.pipeline(transaction=False)
        for d in digests:
            pipe.hgetall(self._k.api_key(d))
        rows = [r for r in await pipe.execute() if r]
        return sorted(rows, key=lambda r: float(r.get("created") or 0))

    async def key_revoke(self, kid: str) -> dict[str, str] | None:
        """Delete key `kid`; its record, or None when there is no such key."""
        digest = await self._r.hget(self._k.api_key_ids, kid)
        if not digest:
            return None
        row: dict[str, str] = await self._r.hgetall(self._k.api_key(digest))
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(self._k.api_key(digest))
        pipe.hdel(self._k.api_key_ids, kid)
        if row.get("agent"):
            pipe.hdel(self._k.api_keys_of(row["agent"]), kid)
        await pipe.execute()
        return row

    # -- sign-in failures ----------------------------------------------------------------------
    async def blocked_for(self, kind: str, who: str) -> tuple[str, float] | None:
        """('lock' | 'wait', seconds left) while `who` may not try, else None."""
        pipe = self._r.pipeline(transaction=False)
        pipe.pttl(self._k.login_lock(kind, who))
        pipe.pttl(self._k.login_wait(kind, who))
        lock_ms, wait_ms = await pipe.execute()
        if lock_ms > 0:
            return LOCK, lock_ms / 1000
        if wait_ms > 0:
            return WAIT, wait_ms / 1000
        return None

    async def failed(self, kind: str, who: str, window_s: int) -> int:
        """Count one more failure in a row; the count."""
        pipe = self._r.pipeline(transaction=True)
        pipe.incr(self._k.login_failures(kind, who))
        pipe.expire(self._k.login_failures(kind, who), window_s)
        count, _ = await pipe.execute()
        return int(count)

    async def hold(self, kind: str, who: str, what: str, seconds: float) -> None:
        """Make `who` wait (WAIT) or lock them (LOCK) for `seconds`; a lock also clears the count."""
        if what == LOCK:
            pipe = self._r.pipeline(transaction=True)
            pipe.set(self._k.login_lock(kind, who), "1", px=max(1, int(seconds * 1000)))
            pipe.delete(self._k.login_failures(kind, who))
            await pipe.execute()
        else:
            await self._r.set(self._k.login_wait(kind, who), "1", px=max(1, int(seconds * 1000)))

    async def succeeded(self, kind: str, who: str) -> None:
        await self._r.delete(self._k.login_failures(kind, who), self._k.login_wait(kind, who))

    async def unlock(self, kind: str, who: str) -> None:
        """An admin lifts a lock (a password reset does it for the account)."""
        await self._r.delete(self._k.login_lock(kind, who), self._k.login_failures(kind, who),
                             self._k.login_wait(kind, who))

    # -- policy and OIDC state -----------------------------------------------------------------
    async def policy(self) -> dict[str, Any] | None:
        raw = await self._r.hget(self._k.account_policy, "require_2fa")
        return {"require_2fa": json.loads(raw)} if raw is not None else None

    async def set_policy(self, require_2fa: list[str], only_if_unset: bool = False) -> None:
        value = json.dumps(sorted(require_2fa))
        if only_if_unset:
            await self._r.hsetnx(self._k.account_policy, "require_2fa", value)
        else:
            await self._r.hset(self._k.account_policy, "require_2fa", value)

    async def oidc_begin(self, state: str, payload: str, ttl_s: int = 600) -> None:
        await self._r.set(self._k.oidc_state(state), payload, ex=ttl_s)

    async def oidc_take(self, state: str) -> str | None:
        """The sign-in's record, once: a replayed callback finds nothing."""
        pipe = self._r.pipeline(transaction=True)
        pipe.get(self._k.oidc_state(state))
        pipe.delete(self._k.oidc_state(state))
        value, _ = await pipe.execute()
        return str(value) if value is not None else None
