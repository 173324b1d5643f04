"""Whether anyone can answer a web chat now, pushed to the open widgets when it changes (issue 19).

`online`: an agent is online (not disabled, with room for chats at all); `nobody`: nobody online,
in business hours or with none configured; `off_hours`: nobody online, outside the business hours
(`bot.hours`, as admins edit them live). The page offers the leave-a-message form for the last
two, unless an agent has its chat, and takes it away, with a notice, when someone comes online.

Every status change reaches every process as an `agent_status` frame (status.lua). This process
then reads the agents once, after a short settle (a shift ending is many changes, one answer), and
sends `{"type": "availability", "availability"}` to each of its widget sockets whose page was told
otherwise: each page hears each change once. Hours move with the clock alone, and a lost pub/sub
frame must not leave a page wrong for long, so the answer is also read again each CHECK_S while
any widget is open. A page that connects is told the answer first (router/web/chat_socket.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable

from router.bot.hours import BusinessHours
from router.models import AgentStatus
from router.pipeline.fanout import Hub
from router.pipeline.tap import Tap
from router.store import Store
from router.store.client import REDIS_ERRORS
from router.web import frames

log = logging.getLogger("kefu.availability")

ONLINE_CACHE_S = 3.0
"""How long "is anyone online" is reused for pages loading and connecting: a peak's thousands of
page loads a minute need not each read every agent. A status change forgets it at once."""
SETTLE_S = 0.1
CHECK_S = 30.0
STATES = ("online", "nobody", "off_hours")


class Availability:
    name = "widget availability"

    def __init__(self, store: Store, hub: Hub, hours: Callable[[], BusinessHours | None],
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.hub = hub
        self.hours = hours
        """The business hours now (the bot stage's, which live edits replace)."""
        self.clock = clock
        self._online = False
        self._read_at = float("-inf")
        self._changes = 0
        """Status changes heard so far."""
        self._reading: tuple[int, asyncio.Future[bool]] | None = None
        """The read of every agent in flight, which askers share, with the changes heard when it began."""
        self._told: weakref.WeakKeyDictionary[Tap, str] = weakref.WeakKeyDictionary()
        """What each open page was last told."""
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        hub.team_watchers.append(self._heard)

    def _heard(self, frame: str) -> None:
        if '"agent_status"' in frame:
            self._changes += 1
            self._read_at = float("-inf")
            self._changed.set()

    async def anyone_online(self) -> bool:
        if time.monotonic() - self._read_at <= ONLINE_CACHE_S:
            return self._online
        # One read for everyone asking meanwhile: at a peak, the pages connecting in the moment
        # the answer runs out would each read every agent (two commands an agent) otherwise. A
        # read begun before a status change is not joined after it: it may have missed it.
        reading = self._reading
        if reading is None or reading[0] != self._changes:
            reading = (self._changes, asyncio.ensure_future(self._read(self._changes)))
            # Its failure is each asker's; retrieved here too, for when every asker has gone.
            reading[1].add_done_callback(lambda f: f.cancelled() or f.exception())
            self._reading = reading
        return await asyncio.shield(reading[1])

    async def _read(self, changes: int) -> bool:
        try:
            agents = await self.store.agents.all()
        finally:
            if self._reading is not None and self._reading[0] == changes:
                self._reading = None
        online = any(a.status == AgentStatus.ONLINE and not a.disabled and a.max_chats > 0 for a in agents)
        if changes == self._changes:  # else a status change came while reading: the next asker reads again
            self._online, self._read_at = online, time.monotonic()
        return online

    async def current(self) -> str:
        if await self.anyone_online():
            return "online"
        hours = self.hours()
        return "off_hours" if hours is not None and not hours.is_open(self.clock()) else "nobody"

    def told(self, tap: Tap, value: str) -> str:
        """The frame that tells a connecting page `value`, noted as what it was told."""
        self._told[tap] = value
        return frame(value)

    async def push(self) -> int:
        """Tell every open page here whose answer changed; how many were told."""
        taps = [t for held in list(self.hub.customers.values()) for t in held]
        if not taps:
            return 0
        value = await self.current()
        sent = 0
        for tap in taps:
            if tap in self._told and self._told[tap] != value:
                self._told[tap] = value
                tap.offer("-", frame(value))
                sent += 1
        return sent

    async def run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), CHECK_S)
            if self._stopping.is_set():
                return
            if not self._changed.is_set():
                self._read_at = float("-inf")  # the periodic check reads the agents again
            await asyncio.sleep(SETTLE_S)
            self._changed.clear()
            try:
                await self.push()
            except REDIS_ERRORS as exc:  # Redis away: the next change or check tries again
                log.warning("availability: %s", exc)

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()


def frame(value: str) -> str:
    return frames.dump({"type": "availability", "availability": value})
