"""Durable timers: a sorted set by due time in Redis, fired once across any number of processes.

A timer is an id, a due time and a small JSON payload `{kind, cid, n, ...}` (router/store/keys/ops.py:
timers_due, timers_data). Scheduling the same id again moves it. Each process runs one
`TimerRunner`:

1. `timer_claim.lua` moves due timers into the in-flight set with a lease, atomically, so two
   processes never claim the same timer; a lease that runs out (the process died between claim
   and ack) is claimed again by whoever looks next. Timers survive restarts because they live
   only in Redis.
2. The handler for the payload's kind runs. It must be idempotent by timer id: a slow process
   can outlive its lease, so two processes may run the handler for one claim. The SLA handler
   acks and acts in one Lua script only while the timer is still in flight (or due), so the
   second claimant does nothing and reports nothing.
3. `timer_ack.lua` forgets the timer, unless it was rescheduled while in flight.

The runner sleeps until the next due time or lease expiry, at most `max_sleep_s`, so a timer
scheduled by another process is seen within that bound; scheduling in this process wakes it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from router.store import Store
from router.store.calls.background import TimerAck, TimerClaim
from router.store.client import REDIS_ERRORS
from router.supervisor import Loop

log = logging.getLogger("kefu.timers")

Handler = Callable[[str, dict[str, Any], float], Awaitable[None]]
"""Called with (timer id, payload, now) for each claimed timer of its kind."""


class TimerRunner(Loop):
    name = "timers"

    def __init__(self, store: Store, *, max_sleep_s: float = 1.0, lease_s: float = 30.0, batch: int = 100) -> None:
        super().__init__()
        self.store = store
        self.keys = store.keys
        self.max_sleep_s = max_sleep_s
        self.lease_s = lease_s
        self.batch = batch
        self.handlers: dict[str, Handler] = {}
        self.fired = 0

    def on(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    async def schedule(self, tid: str, due: float, kind: str, **data: Any) -> None:
        """Create or move a timer (Python callers; the Lua scripts schedule their own)."""
        await self.store.timers.schedule(tid, due, {"kind": kind, **data})
        self._wake.set()

    async def cancel(self, tid: str) -> None:
        await self.store.timers.cancel(tid)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                next_due, full = await self.tick()
            except REDIS_ERRORS as exc:
                log.warning("timers: Redis error, retrying in 1s: %s", exc)
                next_due, full = time.time() + 1, False
            if full:
                continue  # more are due now: no sleep
            delay = self.max_sleep_s if next_due is None else next_due - time.time()
            self._wake.clear()
            if delay > 0:
                await self.pause(min(delay, self.max_sleep_s))

    async def tick(self, now: float | None = None) -> tuple[float | None, bool]:
        """Claim and fire what is due; returns (next due time, whether the batch was full)."""
        now = time.time() if now is None else now
        got = await self.store.run(TimerClaim(now, self.lease_s, self.batch))
        next_due, claimed = got.next_due, got.timers
        done: list[str] = []
        for tid, raw in claimed:
            if not raw:
                done.append(tid)  # cancelled after it was due
                continue
            data = json.loads(raw)
            handler = self.handlers.get(str(data.get("kind")))
            if handler is None:
                log.error("timer %s: no handler for kind %r; dropped", tid, data.get("kind"))
                done.append(tid)
                continue
            try:
                await handler(tid, data, now)
            except Exception:
                # Left in flight: the lease runs out and this or another process tries again.
                log.exception("timer %s failed; retried after its lease", tid)
                continue
            self.fired += 1
            done.append(tid)
        if done:
            await self.store.run(TimerAck(tuple(done)))
        return next_due, len(claimed) >= self.batch
