"""One consumer of a Redis stream's consumer group, as the route worker and the sender use it.

Both read new entries in batches (XREADGROUP) and, every half claim-idle period, take back entries
a consumer that died left pending (XAUTOCLAIM); both keep going through Redis errors. What they do
with the entries differs, so that stays with them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from router.store import Store
from router.store.client import REDIS_ERRORS
from router.store.streams import Entry

__all__ = ["Entry", "GroupConsumer", "consumer_name", "keep_going"]
def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


class GroupConsumer:
    """This process's consumer in `group` on `stream`, under a name of its own."""

    def __init__(self, store: Store, stream: str, group: str, claim_idle_ms: int) -> None:
        self.store = store
        self.stream = stream
        self.group = group
        self.claim_idle_ms = claim_idle_ms
        self.name = consumer_name()
        self._last_claim = 0.0

    async def ensure(self) -> None:
        await self.store.streams.ensure_group(self.stream, self.group)

    def claim_due(self) -> bool:
        """True at most once every half claim-idle period: a dead consumer's entries are taken back
        soon after they pass the limit, and a sweep costs little."""
        now = time.monotonic()
        if now - self._last_claim > self.claim_idle_ms / 2000:
            self._last_claim = now
            return True
        return False

    async def claim(self, count: int, start: str = "0-0") -> tuple[str, list[Entry]]:
        """One XAUTOCLAIM page of entries idle past the limit: (where the next page starts, or
        "0-0" at the end; the entries that still exist)."""
        return await self.store.streams.claim_idle(self.stream, self.group, self.name, self.claim_idle_ms, start,
                                                   count)

    async def read(self, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer, waiting up to `block_ms` for the first."""
        return await self.store.streams.read_new(self.stream, self.group, self.name, count, block_ms)


async def keep_going(log: logging.Logger, what: str, stopping: asyncio.Event,
                     turn: Callable[[], Awaitable[None]]) -> None:
    """Run `turn` until `stopping` is set; a Redis error costs a second's pause, not the loop."""
    while not stopping.is_set():
        try:
            await turn()
        except REDIS_ERRORS as exc:
            log.warning("%s: Redis error, retrying in 1s: %s", what, exc)
            await asyncio.sleep(1)
