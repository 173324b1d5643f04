"""A reply that takes longer to send than the claim idle time is still sent once: the sender
working on it keeps its claim fresh, so another sender never takes it over mid-send."""

from __future__ import annotations

import asyncio
import time

from helpers.app import basic_settings, running
from helpers.fake_channel import ScriptedChannel

from adapters.base import Deps
from router.models import Reply, new_id
from router.pipeline.outbox import Sender


class SlowChannel(ScriptedChannel):
    """Takes `delay_s` per send, as a channel API under peak load can."""

    delay_s = 3.0

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        self.attempts.append(reply)
        await asyncio.sleep(self.delay_s)
        self.delivered.append(reply)


async def test_slow_send_is_not_taken_over_by_another_sender(redis_url: str) -> None:
    settings = basic_settings()  # claim_idle_ms: 1000, well under the 3 s send
    async with running(settings, redis_url) as (rt, _base):
        chan = SlowChannel("slow", Deps(rt.ingestor, rt.store))
        rt.adapters[(chan.channel, chan.account)] = chan
        other = Sender(rt.store, rt.transcript, rt.adapters, settings.outbox, settings.worker.claim_idle_ms)
        task = asyncio.create_task(other.run())
        try:
            reply = Reply(id=new_id("m"), conversation_id="c-slow", customer_id="cu", channel=chan.channel,
                          account=chan.account, chat="chat-1", text="your parcel left the warehouse",
                          author="alice")
            await rt.outbox.enqueue(reply)
            deadline = time.monotonic() + 15
            while not chan.delivered and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert chan.delivered, "the reply was never delivered"
            # Give a would-be second sender time to claim the entry and send it again.
            await asyncio.sleep(2 * chan.delay_s)
            assert len(chan.attempts) == 1
            pending = await rt.store.client.xpending(rt.store.keys.outbound, "senders")
            assert pending["pending"] == 0
        finally:
            other.stop()
            await asyncio.wait_for(task, 10)
