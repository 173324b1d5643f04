"""The WeCom kf session state follows the router, not only the replies: when a human is assigned
(before anyone writes) the session moves to "by a human" (3), and when the conversation closes to
"ended" (4).

The router has no channel hook for assignment or close, but the routing scripts write both to the
event stream (keys.hook_events) in the same step as the change. While a WeCom account is
configured, the stream is written with or without webhooks (`HookRecords.keep_on`), and one
process at a time (a lease) reads it after its own cursor, moving the states of WeCom customers'
conversations. A refused move is logged and skipped (it is best effort, as before replies); the
cursor moves after the page, so a process that dies mid-page leaves it to the next holder, and
`WecomAdapter.set_state` does not move a session twice to where it already is.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from typing import Any

from adapters.base import Adapter
from adapters.wecom import STATE_ENDED, STATE_HUMAN, WecomAdapter
from router.pipeline.streams import consumer_name
from router.store import Store
from router.store.client import REDIS_ERRORS
from router.supervisor import Loop

log = logging.getLogger("kefu.wecom")

READER = "wecom"
LEASE_MS = 10_000
KEEP_MS = 60_000
"""keys.hook_keep lives this long after the last process with a WeCom account renewed it."""
PAGE = 200
WANTED = ("conversation.assigned", "conversation.transferred", "conversation.closed")


class StateSync(Loop):
    name = "wecom session state"

    def __init__(self, store: Store, adapters: dict[str, WecomAdapter], lease_ms: int = LEASE_MS) -> None:
        super().__init__()
        self.store = store
        self.adapters = adapters
        """WeCom adapters by account."""
        self.lease_ms = lease_ms
        self.holder = consumer_name()
        self.moved = 0
        """Session states this process asked WeCom to move."""

    @classmethod
    def of(cls, store: Store, adapters: Iterable[Adapter]) -> StateSync | None:
        """The loop for a process's WeCom accounts; None when it has none."""
        wecoms = {a.account: a for a in adapters if isinstance(a, WecomAdapter)}
        return cls(store, wecoms) if wecoms else None

    async def keep_on(self) -> None:
        """Have the scripts write events, and start the cursor (the first time) where they begin:
        older events are not replayed, newer ones are all read. The cursor first: placed after
        the events were turned on, it took one written in between (by another process) for older."""
        await self.store.hooks.reader_cursor(READER)
        await self.store.hooks.keep_on(KEEP_MS)

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    await self.keep_on()
                    if await self.store.hooks.reader_lease(READER, self.holder, self.lease_ms):
                        await self.turn(block_ms=1000)
                    else:
                        await self.pause(self.lease_ms / 5000)
                except REDIS_ERRORS as exc:
                    log.warning("wecom session state: Redis error, retrying in 1s: %s", exc)
                    await asyncio.sleep(1)
        finally:
            try:
                await self.store.hooks.reader_release(READER, self.holder)
            except REDIS_ERRORS:
                pass

    async def turn(self, block_ms: int = 0) -> int:
        """One page of events after the cursor (waiting up to `block_ms` for one); how many."""
        cursor = await self.store.hooks.reader_cursor(READER)
        entries = await self.store.hooks.events_after(cursor, PAGE, block_ms)
        for eid, fields in entries:
            if fields.get("type") in WANTED:
                try:
                    await self.handle(fields)
                except REDIS_ERRORS:
                    raise  # the page is read again
                except Exception:
                    log.exception("wecom session state: event %s not handled", eid)
        if entries:
            await self.store.hooks.move_reader_cursor(READER, entries[-1][0])
        return len(entries)

    async def handle(self, fields: dict[str, Any]) -> None:
        etype, cid = fields.get("type", ""), fields.get("cid", "")
        conv = await self.store.conversations.get(cid) if cid else None
        if conv is None or conv.channel != "wecom" or not conv.chat:
            return
        adapter = self.adapters.get(conv.account or "")
        if adapter is None:
            return
        try:
            data: dict[str, Any] = json.loads(fields.get("data") or "{}")
        except ValueError:
            return
        if etype == "conversation.closed":
            await adapter.set_state(conv.chat, STATE_ENDED)
        else:
            agent = data.get("agent_id") if etype == "conversation.assigned" else (
                data.get("to") if data.get("outcome") == "assigned" else None)
            if not isinstance(agent, str) or not agent:
                return
            servicer = adapter.cfg.servicers.get(agent) or adapter.cfg.servicer_userid
            if not servicer:
                return
            await adapter.set_state(conv.chat, STATE_HUMAN, servicer)
        self.moved += 1
