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
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

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


def _earlier_than(lane: list[tuple[int, str, T]], seq: int) -> Earlier:
    return lambda: bool(lane) and lane[0][0] < seq
