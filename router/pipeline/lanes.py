"""Ordered lanes for the stream senders (the outbox's replies, the webhooks' deliveries).

A sender reads entries of many conversations at once. Each conversation's entries go through a
lane of their own, lowest number first, so a slow channel or a Retry-After holds up its own
conversation only. An entry taken back from a dead process (XAUTOCLAIM) can join a lane after a
later entry of the same conversation, which is already waiting for it: that later one steps aside
(its handler returns False) and goes again after it, instead of waiting out its bound and going
first.

Two limits, because a later entry waiting for an earlier one must not hold a sending slot: if
the entries in flight were all later ones waiting, the earlier ones they wait for could never be
read, and every lane would wait out its bound and then go out of order. So `sending` bounds the
entries being sent, and a much larger bound on entries held (waiting or sending) is what pushes
back on the stream read.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from router.pipeline.streams import DeadLetters, Entry, StreamLoop
from router.store import Store
from router.store.client import REDIS_ERRORS

log = logging.getLogger("kefu.lanes")

T = TypeVar("T")

Earlier = Callable[[], bool]
"""Asked by a waiting handler: has an entry with a lower number joined this lane since?"""

Handler = Callable[[T, int, Earlier], Awaitable[bool]]
"""Handles one entry (its item and number); False to step aside for an earlier one."""


HELD_PER_SENDING_SLOT = 32
"""Entries held per sending slot: 32 x the default 32 slots is 1,024 small replies in memory."""


class Lanes(Generic[T]):
    def __init__(self, concurrency: int, handle: Handler[T]) -> None:
        self._handle = handle
        self.sending = asyncio.Semaphore(concurrency)
        """Taken by a handler around the send itself, once its entry's turn has come."""
        self._held = asyncio.Semaphore(concurrency * HELD_PER_SENDING_SLOT)
        self._lanes: dict[Hashable, list[tuple[int, str, T]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.inflight: set[str] = set()
        """Entry ids taken and not yet handled: their claims are kept fresh, and a claim pass does
        not take them again."""

    async def add(self, key: Hashable, seq: int, eid: str, item: T) -> None:
        """Queue an entry in its lane; waits while the lanes hold their bound of entries, which
        is the back-pressure on the stream read."""
        await self._held.acquire()
        self.inflight.add(eid)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = []
            task = asyncio.create_task(self._drain(key, lane))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        heapq.heappush(lane, (seq, eid, item))

    async def _drain(self, key: Hashable, lane: list[tuple[int, str, T]]) -> None:
        current: tuple[int, str, T] | None = None
        try:
            while lane:
                current = heapq.heappop(lane)
                if not await self._handle(current[2], current[0], _earlier_than(lane, current[0])):
                    heapq.heappush(lane, current)  # an earlier one arrived while this one waited
                else:
                    self._done(current[1])
                current = None
        finally:
            # Cancelled (shutting down): what is left stays pending in the stream for XAUTOCLAIM.
            for _seq, eid, _item in ([current] if current else []) + lane:
                self._done(eid)
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    def _done(self, eid: str) -> None:
        self.inflight.discard(eid)
        self._held.release()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class LaneSender(StreamLoop, Generic[T]):
    """A stream consumer that hands each entry to its lane: takes back a dead process's entries
    when due, else reads new ones, and keeps the claims of the entries it holds fresh. A
    subclass says how an entry becomes a lane item (`dispatch`) and how an item is handled."""

    block_ms = 2000

    def __init__(self, store: Store, part: int, stream: str, group: str, claim_idle_ms: int,
                 dead: DeadLetters, concurrency: int) -> None:
        super().__init__(store, part, stream, group, claim_idle_ms, dead)
        self.claim_idle_ms = claim_idle_ms
        self.page = concurrency
        self._lanes: Lanes[T] = Lanes(concurrency, self._handle)

    async def _handle(self, item: T, seq: int, earlier: Earlier) -> bool:
        raise NotImplementedError

    async def dispatch(self, entries: list[Entry]) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        keeper = asyncio.create_task(self._keep_claims())
        try:
            await super().run()
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await self._lanes.close()

    async def _turn(self) -> None:
        entries: list[Entry] = []
        if self.group.claim_due():
            _, claimed = await self.group.claim(self.page)
            entries = [(eid, fields) for eid, fields in claimed if eid not in self._lanes.inflight]
        if not entries:
            entries = await self.group.read(self.page, block_ms=self.block_ms)
        await self.dispatch(entries)

    async def _keep_claims(self) -> None:
        """Keep the held entries ours. A send can take longer than the claim idle time (backoff,
        Retry-After, a slow channel, waiting for its turn); without this, another process would
        XAUTOCLAIM it while this one still works on it, and it would go twice. XCLAIM to
        ourselves with no minimum idle resets the entry's idle clock and changes nothing else."""
        period = max(self.claim_idle_ms / 3000, 0.05)
        while True:
            await asyncio.sleep(period)
            ids = list(self._lanes.inflight)
            if not ids:
                continue
            try:
                await self.group.keep_claimed(ids)
            except REDIS_ERRORS as exc:
                log.warning("%s: could not refresh held entries: %s", self.name, exc)


def _earlier_than(lane: list[tuple[int, str, T]], seq: int) -> Earlier:
    return lambda: bool(lane) and lane[0][0] < seq
