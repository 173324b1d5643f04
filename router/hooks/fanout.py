"""Events to deliveries: one process at a time (a lease in Redis) reads the event stream from its
cursor and queues one delivery per webhook that wants the event's type, then moves the cursor.

One reader keeps each conversation's deliveries numbered in the order its events happened. A
reader that dies between queueing and moving the cursor leaves the page to the next holder of the
lease, and hook_enqueue.lua queues each (webhook, event) once, so nothing is delivered twice or
lost. Queueing is a few Redis writes: a slow receiver slows its own deliveries, never this.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from router.config.webhooks import WebhookDeliverySettings
from router.hooks.events import body, event_id
from router.pipeline.streams import consumer_name
from router.store import Store
from router.store.calls.hooks import HookEnqueue
from router.store.client import REDIS_ERRORS
from router.supervisor import Loop

log = logging.getLogger("kefu.hooks")

LEASE_MS = 10_000
PAGE = 200


class Fanout(Loop):
    name = "webhook fan-out"

    def __init__(self, store: Store, settings: WebhookDeliverySettings, lease_ms: int = LEASE_MS) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.lease_ms = lease_ms
        self.holder = consumer_name()
        self.events = 0
        """Events this process turned into deliveries (GET /metrics)."""

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    if await self.store.hooks.lease(self.holder, self.lease_ms):
                        await self.turn(block_ms=1000)
                    else:
                        await self.pause(self.lease_ms / 5000)
                except REDIS_ERRORS as exc:
                    log.warning("webhook fan-out: Redis error, retrying in 1s: %s", exc)
                    await asyncio.sleep(1)
        finally:
            try:
                await self.store.hooks.release(self.holder)
            except REDIS_ERRORS:
                pass

    async def turn(self, block_ms: int = 0) -> int:
        """One page of events after the cursor into deliveries; how many events."""
        cursor = await self.store.hooks.cursor()
        entries = await self.store.hooks.events_after(cursor, PAGE, block_ms)
        if not entries:
            return 0
        hooks = [h for h in (await self.store.hooks.all()).values() if h.get("enabled", True)]
        now = time.time()
        calls: list[HookEnqueue] = []
        for eid, fields in entries:
            etype, cid = fields.get("type", ""), fields.get("cid", "")
            wanting = [h for h in hooks if etype in h.get("events", ())]
            if not wanting:
                continue
            try:
                data: dict[str, Any] = json.loads(fields.get("data") or "{}")
                ts = float(fields.get("ts") or now)
            except ValueError:
                log.error("webhook event %s is not readable; skipped: %r", eid, fields)
                continue
            did = event_id(eid)
            text = body(did, etype, ts, data)
            calls += [HookEnqueue(h["id"], did, etype, cid, text, now, self.settings.record_ttl_s,
                                  self.settings.log_keep) for h in wanting]
        for result in await self.store.run_many(calls) if calls else []:
            if isinstance(result, Exception):
                raise result  # the cursor stays: the page is read again, and queued once
        await self.store.hooks.move_cursor(entries[-1][0])
        self.events += len(entries)
        return len(entries)
