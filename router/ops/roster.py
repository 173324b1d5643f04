"""The shift roster: agents go online when their shift starts and offline when it ends.

Every process runs a `Roster`. Each tick it lists the shift starts and ends that fell in the last
few minutes (`ops.shift_catch_up_s`, so an edge passed while every process was down is still acted
on) and claims each with SET NX on a per shift, date and edge key: whichever process claims it
acts, the others skip it, so each edge is acted on once. Ends come before starts at the same
moment, and an agent still on another shift at an end stays online, so back-to-back shifts hand
nothing over. The tick also catches agents whose process died with their socket: their presence
entries stop being refreshed, and they go through the same grace period as a closed socket.

An agent the roster sets online must have a console open (on any process) within the disconnect
grace period, or goes offline again with their chats handed over.

The clock is given (the runtime's `clock`), so tests drive the roster with a fixed time and call
`tick()`. Status changes go through `Presence`, as a person's would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from router.config.ops import DAYS, ShiftSettings, minutes
from router.store.calls.agents import Emit

if TYPE_CHECKING:
    from router.config.settings import Settings
    from router.ops.presence import Presence
    from router.store import Store


log = logging.getLogger("kefu.roster")

EDGE_TTL_S = 3 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Shift:
    name: str
    start: int
    """Minutes after local midnight."""
    end: int
    days: frozenset[int]
    """Weekdays (Monday 0) on which the shift starts."""
    tz: ZoneInfo
    agents: tuple[str, ...]

    @classmethod
    def from_settings(cls, s: ShiftSettings) -> Shift:
        start, end = minutes(s.start), minutes(s.end)
        assert start is not None and end is not None, "settings checked the times"
        return cls(s.name, start, end, frozenset(DAYS.index(d) for d in s.days), ZoneInfo(s.timezone), s.agents)

    def windows(self, around: float) -> list[tuple[str, float, float]]:
        """(start date, start, end) of the shifts starting on the two days before `around`'s
        local date and on that date: every window that may have an edge at or before it."""
        today = datetime.fromtimestamp(around, self.tz).date()
        out = []
        for back in (2, 1, 0):
            day = today - timedelta(days=back)
            if day.weekday() not in self.days:
                continue
            start = datetime.combine(day, dtime(self.start // 60, self.start % 60), self.tz)
            end_day = day if self.end > self.start else day + timedelta(days=1)
            end = datetime.combine(end_day, dtime(self.end // 60, self.end % 60), self.tz)
            out.append((day.isoformat(), start.timestamp(), end.timestamp()))
        return out

    def on_duty(self, at: float) -> bool:
        return any(s <= at < e for _, s, e in self.windows(at))


class Roster:
    name = "roster"

    def __init__(self, store: Store, settings: Settings, presence: Presence, clock: Callable[[], float]) -> None:
        self.store = store
        self.settings = settings
        self.presence = presence
        self.clock = clock
        self.shifts = [Shift.from_settings(s) for s in settings.shifts]
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        every = self.settings.ops.shift_tick_s
        while not self._stopping.is_set():
            try:
                await self.tick()
                await self.sweep_presence()
            except Exception:
                log.exception("roster tick failed; trying again in %.0f s", every)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), every)

    def due(self, now: float) -> list[tuple[float, str, Shift, str]]:
        """Edges in (now - catch-up, now], oldest first, ends before starts at the same moment."""
        ops = self.settings.ops
        since = now - max(ops.shift_catch_up_s, ops.shift_tick_s)
        edges = []
        for shift in self.shifts:
            for day, start, end in shift.windows(now):
                for edge, at in (("end", end), ("start", start)):
                    if since < at <= now:
                        edges.append((at, edge, shift, day))
        edges.sort(key=lambda e: (e[0], e[1] != "end", e[2].name))
        return edges

    async def tick(self) -> list[str]:
        """Act on every due edge this process claims; returns them as 'shift/date/edge'."""
        done = []
        for at, edge, shift, day in self.due(self.clock()):
            if not await self.store.ops.claim_shift_edge(shift.name, day, edge, at, EDGE_TTL_S):
                continue
            log.info("shift %s %s on %s", shift.name, edge, day)
            for aid in shift.agents:
                await self._edge(shift, edge, at, aid)
            done.append(f"{shift.name}/{day}/{edge}")
        return done

    async def _edge(self, shift: Shift, edge: str, at: float, aid: str) -> None:
        agent = await self.store.agents.get(aid)
        if agent is None:
            return
        if edge == "start":
            if agent.status == "offline":
                await self.presence.set_status(aid, "online", "shift_start")
                # Without a console open anywhere by the end of the grace period, they go offline
                # again, rather than sit on chats nobody reads.
                self.presence.agent_left(aid, restart=False)
        elif agent.status != "offline":
            if any(s is not shift and aid in s.agents and s.on_duty(at) for s in self.shifts):
                return  # straight on into another shift: nothing to hand over
            await self.presence.set_status(aid, "offline", "shift_end")
        frame = {"type": "shift", "shift": shift.name, "edge": edge, "at": at}
        await self.store.run(Emit(aid, json.dumps(frame)))

    async def sweep_presence(self) -> None:
        """Agents whose every presence entry ran out (their process died): start their grace."""
        now = time.time()  # presence entries carry real time, whatever the roster's clock says
        for agent in await self.store.agents.all():
            aid = agent.id
            if agent.status == "offline" or aid in self.presence.connected:
                continue
            presence = await self.store.agents.presence(aid)
            if presence and all(exp < now for exp in presence.values()):
                self.presence.agent_left(aid, restart=False)
