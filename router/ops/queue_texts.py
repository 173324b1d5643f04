"""Queue position for WeChat and Telegram customers, as a throttled text through the outbox.

Web chat shows the `queue` frames the scripts publish. Customers on WeChat or Telegram have no
socket, so every process watches those frames on pub/sub, and `queue_text.lua` lets exactly one
process text each change: only when the position differs from the last text, and at most once
per `sla.queue_text_interval_s` (a change that comes too soon is sent when the interval ends, by
a durable timer). The estimate is the frame's, from the pool's recent handle times.

At the peak a queued customer who writes again makes a `queue` frame with the position they
already had, on every process. Each process remembers the position Redis settled on per
conversation (`LAST_KNOWN` of them) and makes no call for the same one again: every process sees
the same frames in the same order, so what it remembers is what the script would answer 'same'
to. A text that must wait for the interval is forgotten, so its timer's frame goes through.

Positions change when someone ahead leaves the queue: the script that assigns, closes or requeues
a conversation schedules one announcement per pool in the same step (lib.lua's `queue_moved`, a
durable timer that coalesces a burst), which sends fresh `queue` frames to the first
`sla.queue_announce_limit` waiting conversations.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Coroutine
from typing import Any

from adapters import registry
from router.config.settings import SlaSettings
from router.models import Channel, Reply, Sender
from router.pipeline.outbox import Outbox
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.background import QueueAnnounce, QueueText

log = logging.getLogger("kefu.queue_texts")

TIMER_KINDS = ("queue_announce", "queue_position")
LAST_KNOWN = 20_000
"""Conversations whose settled position a process remembers; the oldest are forgotten first."""


def queue_text(ahead: int, eta_s: int, language: str) -> str:
    minutes = max(1, math.ceil(eta_s / 60)) if eta_s >= 0 else None
    if language == "en":
        head = "You are next in line" if ahead == 0 else (
            f"There {'is' if ahead == 1 else 'are'} {ahead} customer{'' if ahead == 1 else 's'} ahead of you")
        tail = f"; estimated wait {minutes} minute{'' if minutes == 1 else 's'}." if minutes else \
            "; an agent will be with you soon."
        return head + tail
    head = "马上就轮到您了" if ahead == 0 else f"您前面还有 {ahead} 位"
    return head + (f"，预计等待 {minutes} 分钟" if minutes else "，请稍候")


class QueueTexter:
    def __init__(self, store: Store, outbox: Outbox, transcript: Transcript, settings: SlaSettings) -> None:
        self.store = store
        self.outbox = outbox
        self.transcript = transcript
        self.interval_s = settings.queue_text_interval_s
        self.announce_limit = settings.queue_announce_limit
        self.sent = 0
        self.skipped = 0
        """Queue frames with the position Redis already settled on: no call made."""
        self._settled: dict[str, int] = {}
        self._asked: dict[str, int] = {}
        """The latest call in flight per conversation, by its serial: only its answer may settle
        (two pipelines on two connections may answer out of order)."""
        self._serial = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def seen(self, address: str, frame: str) -> None:
        """Hub callback for every customer frame: a queue frame for a text channel may become a text."""
        if '"type":"queue"' in frame:
            if not registry.capabilities(address.partition(":")[0]).live_frames:
                parsed = json.loads(frame)
                cid, position = str(parsed["conversation_id"]), int(parsed["position"])
                if self._settled.get(cid) == position:
                    self.skipped += 1
                    return
                self._settled.pop(cid, None)  # re-inserted when settled: the newest stay longest
                self._serial += 1
                self._asked[cid] = self._serial
                self._spawn(self._handle(parsed, self._serial))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(coro: Coroutine[Any, Any, Any]) -> None:
        try:
            await coro
        except Exception:
            log.exception("queue position update failed")

    async def announce(self, tid: str, data: dict[str, Any], now: float) -> None:
        """Timer handler: tell a pool's waiting customers their places, or one customer whose
        throttled text is due."""
        if data.get("kind") == "queue_announce":
            await self.store.run(QueueAnnounce("pool", str(data.get("pool")), self.announce_limit))
        else:
            await self.store.run(QueueAnnounce("conv", str(data.get("cid")), 1))

    async def _handle(self, frame: dict[str, object], serial: int) -> None:
        cid = str(frame["conversation_id"])
        try:
            await self.maybe_send(cid, int(str(frame["position"])), int(str(frame.get("eta_s", -1))), serial)
        finally:
            if self._asked.get(cid) == serial:
                del self._asked[cid]

    async def maybe_send(self, cid: str, position: int, eta_s: int, serial: int | None = None) -> bool:
        texted = await self.store.batched.run(QueueText(cid, position, time.time(), self.interval_s))
        if serial is not None and self._asked.get(cid) == serial:
            if texted.settled:
                self._settled[cid] = position
                if len(self._settled) > LAST_KNOWN:
                    del self._settled[next(iter(self._settled))]
            else:
                self._settled.pop(cid, None)
        n = texted.n
        if not texted.send:
            return False
        conv = await self.store.conversations.get(cid)
        if conv is None or conv.state != "queued":
            return False
        text = queue_text(position - 1, eta_s, await self.transcript.customer_language(cid))
        await self.outbox.enqueue(Reply(
            id=f"m-q-{cid}-{n}", conversation_id=cid, customer_id=conv.customer_id or "",
            channel=Channel(conv.channel or ""), account=conv.account or "", chat=conv.chat or "", text=text,
            author="system", sender=Sender.SYSTEM,
            client_msg_id=f"queue-{cid}-{n}", ts=time.time()))
        self.sent += 1
        return True

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
