"""A loop that keeps a process's copy of a shared setting current: it listens on the setting's
pub/sub channel and re-reads on every notice, and also every `poll_s` seconds, because a notice
sent while this process was reconnecting is lost (pub/sub does not store). Redis errors cost a
second's pause and a new subscription, never the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from router.store import Store
from router.store.client import REDIS_ERRORS
from router.store.pubsub import Subscription

log = logging.getLogger("kefu.follow")


class Follower:
    name = "follower"

    def __init__(self, store: Store, channel: str, poll_s: float) -> None:
        self.store = store
        self.channel = channel
        self.poll_s = poll_s
        self._stop = asyncio.Event()
        self._pubsub: Subscription | None = None

    async def refresh(self) -> None:
        """Read the shared setting and use it if it changed."""
        raise NotImplementedError

    async def tick(self) -> None:
        """Anything else the loop checks about once a second."""

    def stop(self) -> None:
        self._stop.set()

    async def subscribe(self) -> None:
        """Subscribe before the first read, so no notice falls between reading and listening."""
        if self._pubsub is None:
            self._pubsub = await self.store.subscribe(self.channel)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_poll = loop.time() + self.poll_s
        try:
            while not self._stop.is_set():
                try:
                    await self.subscribe()
                    assert self._pubsub is not None
                    notice = await self._pubsub.next(wait_s=1.0)
                    if notice is not None or loop.time() >= next_poll:
                        next_poll = loop.time() + self.poll_s
                        await self.refresh()
                    await self.tick()
                except REDIS_ERRORS as exc:
                    log.warning("%s: Redis error, retrying in 1s: %s", self.name, exc)
                    await self._unsubscribe()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), 1.0)
        finally:
            await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        sub, self._pubsub = self._pubsub, None
        if sub is not None:
            await sub.close()
