"""Fan-out: frames from any process reach the WebSockets held by this one.

Scripts publish every agent frame to one pub/sub channel (and keep it in the agent's event
stream), and customer frames to another. Each process subscribes once and hands frames to its
local connections, each a `Tap` (tap.py), which writes them in order and without repeats. If the
subscription drops, every tap replays its stream from its cursor on resubscribe: pub/sub may
lose frames, the streams do not.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable

from router.pipeline.tap import Tap
from router.store import Store
from router.store.client import REDIS_ERRORS

log = logging.getLogger("kefu.fanout")

EVERY_AGENT = "*"
"""The agent channel's address of a frame for every agent socket (a teammate's status: status.lua);
not stored, so never replayed; each socket decides whether its agent may see it."""


class Hub:
    """Local connections by address, fed from Redis pub/sub."""

    name = "fan-out"

    def __init__(self, store: Store, sockets: bool = True) -> None:
        """`sockets`: whether this process holds WebSockets. A worker holds none, and of the
        three channels it needs only the customer one (its queue texts): subscribed to all, it
        received and decoded every agent frame and every transcript landing for nothing, half its
        CPU at 1,000 lines a second (docs/performance.md, "Session 21")."""
        self.store = store
        self.sockets = sockets
        # The channels' names, built once: each is a property that formats its name on every call,
        # and `_dispatch` compares every frame's channel with them.
        self._agent_channel = store.keys.agent_channel
        self._transcript_channel = store.keys.transcript_channel
        self.agents: dict[str, set[Tap]] = defaultdict(set)
        self.customers: dict[str, set[Tap]] = defaultdict(set)
        self.customer_watchers: list[Callable[[str, str], None]] = []
        """Called with (address, frame) for every customer frame, socket or not (queue texts)."""
        self.transcript_watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        """Set when a line lands in the conversation's transcript (supervisors following it:
        router/web/watch_ws.py); all of them after a resubscribe, which may have lost some."""
        self.team_watchers: list[Callable[[str], None]] = []
        """Called with every frame addressed to every agent (a status change: the widgets'
        availability, router/web/availability.py)."""
        self.subscribed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._ever_subscribed = False
        """Held by the hub, not by `run`: after a crash the supervisor calls `run` again, and
        frames published while it was down reach the taps only by their replay."""

    def add_agent(self, aid: str, tap: Tap) -> None:
        self.agents[aid].add(tap)

    def remove_agent(self, aid: str, tap: Tap) -> None:
        self.agents[aid].discard(tap)
        if not self.agents[aid]:
            del self.agents[aid]

    def add_customer(self, address: str, tap: Tap) -> None:
        self.customers[address].add(tap)

    def remove_customer(self, address: str, tap: Tap) -> None:
        self.customers[address].discard(tap)
        if not self.customers[address]:
            del self.customers[address]

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        k = self.store.keys
        channels = ((k.agent_channel, k.customer_channel, k.transcript_channel) if self.sockets
                    else (k.customer_channel,))
        while not self._stopping.is_set():
            sub = None
            try:
                sub = await self.store.subscribe(*channels)
                self.subscribed.set()
                if self._ever_subscribed:
                    await self._resync_all()
                self._ever_subscribed = True
                while not self._stopping.is_set():
                    # A burst comes in one piece (router/store/pubsub.py); its frames are queued
                    # for their sockets before any socket's writer runs.
                    for channel, data in await sub.batch(wait_s=1.0):
                        self._dispatch(channel, data)
            except (*REDIS_ERRORS, ConnectionError) as exc:
                self.subscribed.clear()
                log.warning("pub/sub dropped, resubscribing: %s", exc)
                await asyncio.sleep(0.5)
            finally:
                if sub is not None:
                    await sub.close()

    def _dispatch(self, channel: str, data: str) -> None:
        # Every process gets every frame: the address comes first, so a frame for nobody here is
        # dropped before the rest of it is split or copied (most, with several web processes).
        address, _, rest = data.partition("\n")
        if channel == self._transcript_channel:
            for landed in self.transcript_watchers.get(address, ()):
                landed.set()
            return
        agent = channel == self._agent_channel
        if agent and address == EVERY_AGENT:
            frame = rest.partition("\n")[2]
            for heard in self.team_watchers:
                try:
                    heard(frame)
                except Exception:
                    log.exception("team watcher failed")
            for held in list(self.agents.values()):
                for tap in list(held):
                    tap.offer("-", frame)
            return
        if agent:
            taps = self.agents.get(address)
            if not taps:
                return
        else:
            taps = self.customers.get(address)
            if not taps and not self.customer_watchers:
                return
        entry_id, _, frame = rest.partition("\n")
        if not agent:
            for watch in self.customer_watchers:
                try:
                    watch(address, frame)
                except Exception:
                    log.exception("customer watcher failed on %s", address)
        for tap in list(taps or ()):
            tap.offer(entry_id, frame)

    def watch_transcript(self, cid: str, landed: asyncio.Event) -> None:
        self.transcript_watchers[cid].add(landed)

    def unwatch_transcript(self, cid: str, landed: asyncio.Event) -> None:
        self.transcript_watchers[cid].discard(landed)
        if not self.transcript_watchers[cid]:
            del self.transcript_watchers[cid]

    async def _resync_all(self) -> None:
        for watchers in self.transcript_watchers.values():
            for landed in watchers:
                landed.set()
        for taps in [*self.agents.values(), *self.customers.values()]:
            for tap in list(taps):
                await tap.resync()

    async def close_all(self) -> None:
        for taps in [*self.agents.values(), *self.customers.values()]:
            for tap in list(taps):
                await tap.close()
