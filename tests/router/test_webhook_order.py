"""A webhook's deliveries of one conversation go in order even when the earlier one reaches this
process after the later one (taken back from a process that died): the later one steps aside."""

from __future__ import annotations

import asyncio
import time

from helpers.hook_receiver import receiver

from router.config.webhooks import WebhookDeliverySettings
from router.hooks.delivery import HookSender
from router.hooks.events import body
from router.store import Store
from router.store.calls.hooks import HookEnqueue


async def test_an_earlier_delivery_arriving_late_goes_first(store: Store) -> None:
    async with receiver() as rec:
        await store.hooks.put({"id": "erp", "url": rec.url, "secret": rec.secret, "events": ["message.created"],
                               "enabled": True, "source": "api"})
        settings = WebhookDeliverySettings(allow_private_networks=True, base_delay_s=0.05, max_delay_s=0.1)
        now = time.time()
        for n in (1, 2):
            assert await store.run(HookEnqueue("erp", f"evt_{n}", "message.created", "c1",
                                               body(f"evt_{n}", "message.created", now, {"conversation_id": "c1",
                                                                                         "n": n}),
                                               now, 3600, 100))
        # Take both entries off the stream, then put back number 2 alone: number 1 is "elsewhere".
        raw = store.client
        entries = await raw.xrange(store.keys.hook_deliveries)
        await raw.delete(store.keys.hook_deliveries)
        by_seq = {int(f["seq"]): f for _, f in entries}
        await raw.xadd(store.keys.hook_deliveries, by_seq[2])
        sender = HookSender(store, settings, claim_idle_ms=20_000)  # its bound would be 45 s
        task = asyncio.create_task(sender.run())
        try:
            await asyncio.sleep(1.0)
            assert rec.requests == []  # number 2 waits for number 1
            await raw.xadd(store.keys.hook_deliveries, by_seq[1])
            taken = await rec.wait_for(lambda t: len(t) == 2, timeout=10)
        finally:
            sender.stop()
            await asyncio.wait_for(task, 10)
        assert [b["data"]["n"] for b in taken] == [1, 2]
        assert (await store.hooks.record("erp", "evt_2"))["status"] == "delivered"
