"""What outbound webhooks keep in Redis ({wh} and the {rt} event stream): the webhooks admins
made, the events the routing scripts wrote, and each delivery's record, log and order.

Deliveries are numbered per (webhook, conversation) by hook_enqueue.lua; a sender sends number n
after n-1 is finished (`done`), as the reply outbox does (router/pipeline/outbox.py).
"""

from __future__ import annotations

import json
import time
from typing import Any

from router.store.keys import Keys
from router.store.streams import DEAD_LETTERS_MAXLEN, Entry


class HookRecords:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys
        self._cursor_placed = False
        """`keep_on` placed the fan-out's cursor once: from then on it is only moved, so the
        renewals (every turn of a channel reader) need not read it again."""

    # -- the webhooks ---------------------------------------------------------------------------
    async def all(self) -> dict[str, dict[str, Any]]:
        """Every webhook by id, as stored (JSON objects)."""
        raw = await self._r.hgetall(self._k.webhooks)
        out: dict[str, dict[str, Any]] = {}
        for hid, text in raw.items():
            try:
                out[hid] = json.loads(text)
            except ValueError:
                continue
        return out

    async def get(self, hid: str) -> dict[str, Any] | None:
        text = await self._r.hget(self._k.webhooks, hid)
        return json.loads(text) if text else None

    async def put(self, hook: dict[str, Any]) -> None:
        """Write one webhook, then say whether any is enabled (the scripts read keys.hook_on)."""
        await self._r.hset(self._k.webhooks, hook["id"], json.dumps(hook, ensure_ascii=False))
        await self.refresh_on()

    async def delete(self, hid: str) -> bool:
        gone = bool(await self._r.hdel(self._k.webhooks, hid))
        await self.refresh_on()
        return gone

    async def refresh_on(self) -> bool:
        """Set keys.hook_on while some webhook is enabled, clear it when none is, unless a channel
        reader still wants the events (keys.hook_keep: the WeCom session state)."""
        on = any(h.get("enabled", True) for h in (await self.all()).values())
        if on or await self._r.exists(self._k.hook_keep):
            # The fan-out's cursor is placed before the scripts start writing events: placed by
            # the fan-out's first turn instead, an event written in between (a chat opened the
            # moment the process started) was taken for one from before the webhook, and lost.
            await self.cursor()
            await self._r.set(self._k.hook_on, "1")
        else:
            await self._r.delete(self._k.hook_on)
        return on

    async def keep_on(self, ttl_ms: int) -> None:
        """A channel reader needs the events with or without webhooks: set keys.hook_on, and
        keys.hook_keep for `ttl_ms` so removing the last webhook does not clear it."""
        if not self._cursor_placed:  # as in refresh_on
            await self.cursor()
            self._cursor_placed = True
        pipe = self._r.pipeline(transaction=False)
        pipe.set(self._k.hook_keep, "1", px=ttl_ms)
        pipe.set(self._k.hook_on, "1")
        await pipe.execute()

    # -- a channel's own reader of the events (one process at a time, its own cursor) ----------
    async def reader_lease(self, reader: str, holder: str, ttl_ms: int) -> bool:
        key = self._k.hook_reader_lease(reader)
        if await self._r.set(key, holder, nx=True, px=ttl_ms):
            return True
        if await self._r.get(key) == holder:
            await self._r.pexpire(key, ttl_ms)
            return True
        return False

    async def reader_release(self, reader: str, holder: str) -> None:
        key = self._k.hook_reader_lease(reader)
        if await self._r.get(key) == holder:
            await self._r.delete(key)

    async def reader_cursor(self, reader: str) -> str:
        """Where `reader` is on the event stream; at first, the newest event there is."""
        key = self._k.hook_reader_cursor(reader)
        cur: str | None = await self._r.get(key)
        if cur:
            return cur
        newest = await self._r.xrevrange(self._k.hook_events, count=1)
        await self._r.set(key, newest[0][0] if newest else "0-0", nx=True)
        return str(await self._r.get(key))

    async def move_reader_cursor(self, reader: str, to: str) -> None:
        await self._r.set(self._k.hook_reader_cursor(reader), to)

    # -- events, turned into deliveries by one process at a time -------------------------------
    async def lease(self, holder: str, ttl_ms: int) -> bool:
        """Take or keep the fan-out lease; True while `holder` has it."""
        if await self._r.set(self._k.hook_lease, holder, nx=True, px=ttl_ms):
            return True
        if await self._r.get(self._k.hook_lease) == holder:
            await self._r.pexpire(self._k.hook_lease, ttl_ms)
            return True
        return False

    async def release(self, holder: str) -> None:
        if await self._r.get(self._k.hook_lease) == holder:
            await self._r.delete(self._k.hook_lease)

    async def cursor(self) -> str:
        """The last event turned into deliveries; at first, the newest event there is (events
        from before the first webhook are not delivered). Placed when events are turned on
        (`refresh_on`, `keep_on`), so no event written since is taken for an earlier one."""
        cur: str | None = await self._r.get(self._k.hook_cursor)
        if cur:
            return cur
        newest = await self._r.xrevrange(self._k.hook_events, count=1)
        cur = newest[0][0] if newest else "0-0"
        await self._r.set(self._k.hook_cursor, cur, nx=True)
        return str(await self._r.get(self._k.hook_cursor))

    async def move_cursor(self, to: str) -> None:
        await self._r.set(self._k.hook_cursor, to)

    async def events_after(self, after: str, count: int, block_ms: int) -> list[Entry]:
        resp = await self._r.xread({self._k.hook_events: after}, count=count, block=block_ms or None)  # 0: no wait
        return [entry for _, entries in resp or [] for entry in entries]

    # -- deliveries ---------------------------------------------------------------------------
    async def record(self, hid: str, did: str) -> dict[str, str]:
        found: dict[str, str] = await self._r.hgetall(self._k.hook_delivery(hid, did))
        return found

    async def update(self, hid: str, did: str, **fields: Any) -> None:
        key = self._k.hook_delivery(hid, did)
        if await self._r.exists(key):
            await self._r.hset(key, mapping={**{k: str(v) for k, v in fields.items()}, "updated": time.time()})

    async def log(self, hid: str, count: int, before: float | None = None) -> list[dict[str, str]]:
        """The newest deliveries of a webhook (before `before`), newest first, without bodies."""
        top = f"({before}" if before is not None else "+inf"
        ids = await self._r.zrevrangebyscore(self._k.hook_log(hid), top, "-inf", start=0, num=count)
        pipe = self._r.pipeline(transaction=False)
        for did in ids:
            pipe.hmget(self._k.hook_delivery(hid, did), "id", "type", "cid", "status", "attempts", "last_error",
                       "last_status", "created", "updated", "delivered_at")
        rows = []
        names = ("id", "type", "conversation_id", "status", "attempts", "last_error", "last_status", "created",
                 "updated", "delivered_at")
        for values in await pipe.execute() if ids else []:
            if values[0] is None:
                continue  # expired
            rows.append({n: v for n, v in zip(names, values, strict=True) if v is not None})
        return rows

    async def redeliver(self, hid: str, did: str) -> bool:
        """Queue a delivery again, out of its conversation's order (an admin asked); False when the
        record is gone."""
        key = self._k.hook_delivery(hid, did)
        if not await self._r.exists(key):
            return False
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(key, mapping={"status": "pending", "updated": time.time(), "redelivery": "1"})
        pipe.xadd(self._k.hook_deliveries, {"hook": hid, "d": did, "cid": "", "seq": 0})
        await pipe.execute()
        return True

    async def finished_upto(self, hid: str, cid: str) -> int:
        return int(await self._r.get(self._k.hook_done(hid, cid)) or 0)

    async def finish(self, hid: str, cid: str, seq: int, ttl_s: int) -> None:
        """Delivery number `seq` of (webhook, conversation) is finished: the next may go."""
        if cid and seq:
            await self._r.set(self._k.hook_done(hid, cid), seq, ex=ttl_s)

    async def dead_letter(self, fields: dict[str, Any]) -> None:
        await self._r.xadd(self._k.hook_dead_letters, fields, maxlen=DEAD_LETTERS_MAXLEN, approximate=True)
