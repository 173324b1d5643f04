"""Queue position for WeChat and Telegram customers, as a throttled text through the outbox.

Web chat shows the `queue` frames the scripts publish. Customers on WeChat or Telegram have no
socket, so every process watches those frames on pub/sub, and `queue_text.lua` lets exactly one
process text each change: only when the position differs from the last text, and at most once
per `sla.queue_text_interval_s`. The estimate is the frame's, from the pool's recent handle times.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time

from adapters.base import Reply
from router.models import Channel, Sender
from router.outbox import Outbox
from router.store import Store
from router.transcript import Transcript
from routing_rules.intents import detect_language, normalize

log = logging.getLogger("kefu.queue_texts")

TEXT_CHANNELS = ("wechat:", "telegram:")


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
    def __init__(self, store: Store, outbox: Outbox, transcript: Transcript, interval_s: float) -> None:
        self.store = store
        self.outbox = outbox
        self.transcript = transcript
        self.interval_s = interval_s
        self.sent = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def seen(self, address: str, frame: str) -> None:
        """Hub callback for every customer frame; cheap unless it is a queue frame for a text channel."""
        if not address.startswith(TEXT_CHANNELS) or '"type":"queue"' not in frame:
            return
        task = asyncio.create_task(self._handle(json.loads(frame)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, frame: dict[str, object]) -> None:
        try:
            await self.maybe_send(str(frame["conversation_id"]), int(str(frame["position"])),
                                  int(str(frame.get("eta_s", -1))))
        except Exception:
            log.exception("queue text for %s failed", frame.get("conversation_id"))

    async def maybe_send(self, cid: str, position: int, eta_s: int) -> bool:
        verdict, n = await self.store.call("queue_text", [cid, position, time.time(), self.interval_s])
        if verdict != "send":
            return False
        f = await self.store.client.hmget(self.store.keys.conv(cid), "state", "channel", "account", "chat",
                                          "customer")
        if f[0] != "queued":
            return False
        text = queue_text(position - 1, eta_s, await self._language(cid))
        await self.outbox.enqueue(Reply(
            id=f"m-q-{cid}-{n}", conversation_id=cid, customer_id=f[4] or "", channel=Channel(f[1]),
            account=f[2], chat=f[3], text=text, author="system", sender=Sender.SYSTEM,
            client_msg_id=f"queue-{cid}-{n}", ts=time.time()))
        self.sent += 1
        return True

    async def _language(self, cid: str) -> str:
        """The customer's language, from their latest message; Chinese unless it reads as English."""
        for m in reversed(await self.transcript.messages(cid, limit=5)):
            if m.sender is Sender.CUSTOMER and m.text:
                return "en" if detect_language(normalize(m.text)) == "en" else "zh"
        return "zh"

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
