"""What the WeCom 微信客服 channel keeps in Redis, every key under its account's
`Keys.channel_state("wecom", account, ...)` tag (one slot per account):

- `token`, `token:lock`: the access token every process shares, and the lock its refresh holds;
- `cursor:<open_kfid>`: how far `kf/sync_msg` has been read for one kf account, moved only by
  compare-and-set after the page's messages are ingested;
- `pending:<open_kfid>`: a callback said there is something to pull (the value carries the
  callback's sync token); cleared by compare-and-set only after a pull read to the end, so a
  process killed between the callback and the pull leaves it for the next sweep;
- `kfids`: every kf account a callback named, for the sweep after a restart;
- `pull:<open_kfid>`: the lock of the one process pulling that kf account;
- `quota:<chat>`: a customer's 48-hour window and the replies used in it (as WeChat's);
- `state:<chat>`: the kf service state we last set, so each reply does not set it again;
- `welcome:<code>`: a welcome_code already used, so a re-read page does not greet twice;
- `upload:<media id>`: the WeCom media id of one of our files, reused while WeCom keeps it.
"""

from __future__ import annotations

import time
from typing import Any

from router.store.calls.channels import CompareSet, LockRelease, WindowRefund, WindowTake
from router.store.keys import Keys

CHANNEL = "wecom"


class WecomRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    def key(self, account: str, *parts: str) -> str:
        return self._k.channel_state(CHANNEL, account, *parts)

    # -- the access token ---------------------------------------------------------------------
    async def token(self, account: str) -> str | None:
        found = await self._r.get(self.key(account, "token"))
        return str(found) if found else None

    async def store_token(self, account: str, token: str, ttl_s: int) -> None:
        await self._r.set(self.key(account, "token"), token, ex=ttl_s)

    async def lock(self, account: str, name: str, holder: str, lease_ms: int) -> bool:
        """Take the lock `name` (`token:lock`, `pull:<kfid>`) for `lease_ms`; False when held."""
        return bool(await self._r.set(self.key(account, name), holder, nx=True, px=lease_ms))

    async def extend(self, account: str, name: str, holder: str, lease_ms: int) -> bool:
        """Renew a lock we hold; False when its lease lapsed and another process may hold it."""
        key = self.key(account, name)
        if await self._r.get(key) != holder:
            return False
        return bool(await self._r.pexpire(key, lease_ms))

    def release(self, account: str, name: str, holder: str) -> LockRelease:
        """The call that releases a lock only if `holder` still has it (run with Store.run)."""
        return LockRelease(self.key(account, name), holder)

    # -- the pull: cursor and pending marker ----------------------------------------------------
    async def cursor(self, account: str, kfid: str) -> str:
        return str(await self._r.get(self.key(account, "cursor", kfid)) or "")

    def advance(self, account: str, kfid: str, read: str, new: str) -> CompareSet:
        """The call moving the cursor from `read` to `new`; False if another process moved it."""
        return CompareSet(self.key(account, "cursor", kfid), read, new)

    async def mark_pending(self, account: str, kfid: str, value: str) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.set(self.key(account, "pending", kfid), value)
        pipe.sadd(self.key(account, "kfids"), kfid)
        await pipe.execute()

    async def pending(self, account: str, kfid: str) -> str | None:
        found = await self._r.get(self.key(account, "pending", kfid))
        return str(found) if found else None

    def clear_pending(self, account: str, kfid: str, value: str) -> CompareSet:
        """The call clearing the marker only if no callback replaced it meanwhile."""
        return CompareSet(self.key(account, "pending", kfid), value, "")

    async def kfids(self, account: str) -> list[str]:
        return sorted(str(k) for k in await self._r.smembers(self.key(account, "kfids")))

    # -- the 48-hour window ---------------------------------------------------------------------
    async def open_window(self, account: str, chat: str, window_s: int) -> None:
        key = self.key(account, "quota", chat)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(key, mapping={"used": 0, "opened": time.time()})
        pipe.expire(key, window_s)
        await pipe.execute()

    async def window(self, account: str, chat: str) -> tuple[int, float] | None:
        """(replies used, when the window opened), or None when it has closed."""
        used, opened = await self._r.hmget(self.key(account, "quota", chat), "used", "opened")
        if used is None:
            return None
        return int(used), float(opened or 0)

    def take(self, account: str, chat: str, quota: int) -> WindowTake:
        return WindowTake(self.key(account, "quota", chat), quota)

    def refund(self, account: str, chat: str) -> WindowRefund:
        return WindowRefund(self.key(account, "quota", chat))

    async def close_window(self, account: str, chat: str) -> None:
        await self._r.delete(self.key(account, "quota", chat))

    async def use_up(self, account: str, chat: str, quota: int) -> None:
        await self._r.hset(self.key(account, "quota", chat), "used", quota)

    # -- session state, welcome codes, uploads ----------------------------------------------------
    async def service_state(self, account: str, chat: str) -> str | None:
        found = await self._r.get(self.key(account, "state", chat))
        return str(found) if found else None

    async def keep_service_state(self, account: str, chat: str, state: str, ttl_s: int) -> None:
        await self._r.set(self.key(account, "state", chat), state, ex=ttl_s)

    async def first_welcome(self, account: str, code: str, ttl_s: int) -> bool:
        """True the first time a welcome_code is used."""
        return bool(await self._r.set(self.key(account, "welcome", code), "1", nx=True, ex=ttl_s))

    async def uploaded(self, account: str, media_id: str) -> str | None:
        found = await self._r.get(self.key(account, "upload", media_id))
        return str(found) if found else None

    async def remember_upload(self, account: str, media_id: str, wecom_id: str, ttl_s: int) -> None:
        await self._r.set(self.key(account, "upload", media_id), wecom_id, ex=ttl_s)
