"""Agents' status, and whether a console is connected anywhere.

A socket that closes starts a grace period; an agent with no console on any process when it
ends goes offline, and their chats are handed over (router/ops/handover.py). The grace timers and
the tasks they start belong to this object, which cancels and awaits them on `close()`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Container, Mapping
from typing import Any

from kefu_common.errors import ProtocolError
from router.config.ops import BUILTIN_AWAY_REASONS, OpsSettings
from router.ops.desk import Waker
from router.store import Store
from router.store.calls.agents import Status

log = logging.getLogger("kefu.presence")

STATUSES = ("online", "away", "offline")


def away_reasons(ops: OpsSettings) -> list[dict[str, str]]:
    """The reasons an agent may give for being away: the built-in ones (the console words them)
    and the shop's own with their labels."""
    return [{"id": r} for r in BUILTIN_AWAY_REASONS] + [{"id": r.id, "zh": r.zh, "en": r.en} for r in ops.away_reasons]


def requested_status(body: Mapping[str, Any], ops: OpsSettings) -> tuple[str, str]:
    """(status, away reason) of a status frame or request, refused with the reason when wrong."""
    status = body.get("status")
    if status not in STATUSES:
        raise ProtocolError("bad_frame", '"status" must be online, away or offline')
    reason = body.get("reason")
    if reason is None or reason == "":
        return str(status), ""
    if status != "away":
        raise ProtocolError("bad_frame", '"reason" goes only with "status": "away"')
    known = [r["id"] for r in away_reasons(ops)]
    if not isinstance(reason, str) or reason not in known:
        raise ProtocolError("bad_frame", f'"reason" must be one of {", ".join(known)}')
    return "away", reason


class Presence:
    def __init__(self, store: Store, connected: Container[str], timers: Waker, grace_s: float) -> None:
        self.store = store
        self.connected = connected
        """Agents with a console on this process (the fan-out hub's table)."""
        self.timers = timers
        self.grace_s = grace_s
        self._grace: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def set_status(self, aid: str, status: str, reason: str, away_reason: str = "") -> None:
        """`away_reason` says why an agent is away (router/ops/away.py); the status script adds
        up the time spent in the reason being left, under today's UTC date."""
        now = time.time()
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        changed = await self.store.run(Status(aid, status, now, reason, away_reason, day))
        if changed.requeued:
            self.timers.wake()  # the script scheduled the handovers' notes and texts: due now

    def agent_left(self, aid: str, restart: bool = True) -> None:
        """A socket closed: unless the agent comes back within the grace period, go offline."""
        if aid in self.connected or (not restart and aid in self._grace):
            return
        old = self._grace.pop(aid, None)
        if old:
            old.cancel()
        self._grace[aid] = asyncio.get_running_loop().call_later(self.grace_s, self._start, aid)

    def _start(self, aid: str) -> None:
        """The grace period ran out: check, as a task this object keeps until it is done."""
        task = asyncio.get_running_loop().create_task(self._maybe_offline(aid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _maybe_offline(self, aid: str) -> None:
        self._grace.pop(aid, None)
        if aid in self.connected:
            return
        presence = await self.store.agents.presence(aid)
        now = time.time()
        stale = [c for c, exp in presence.items() if exp < now]
        await self.store.agents.mark_gone(aid, *stale)
        if len(presence) > len(stale):
            return  # connected to another process
        agent = await self.store.agents.get(aid)
        if agent and agent.status != "offline":
            log.info("agent %s disconnected past the grace period: going offline", aid)
            await self.set_status(aid, "offline", "agent_disconnected")

    async def close(self) -> None:
        for timer in self._grace.values():
            timer.cancel()
        self._grace.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
