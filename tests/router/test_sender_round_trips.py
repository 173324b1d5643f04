"""A reply's way through the sender costs two round trips to Redis: its transcript line, webhook
event and was-it-sent check in one, then its sent mark, delivery status, the agent's `delivery`
frame and the entry's ack in another (router/pipeline/outbox.py). They were seven in turn, and
at the peak every answer an agent gives goes this way."""

from __future__ import annotations

import asyncio
import json

from helpers.fake_channel import ScriptedChannel
from helpers.roundtrips import counting

from adapters.base import Deps
from router.config.settings import OutboxSettings
from router.models import Reply
from router.pipeline.ingest import Ingestor
from router.pipeline.outbox import Outbox, Sender
from router.pipeline.transcript import Transcript
from router.store import Store

REPLIES = 300


async def test_three_hundred_replies_two_round_trips_each(store: Store) -> None:
    chan = ScriptedChannel("shop", Deps(Ingestor(store), store))

    async def send(batch: str) -> list[str]:
        """A reply in each of REPLIES conversations, queued and then sent by fresh senders."""
        cids = [f"c{batch}{i:03d}" for i in range(REPLIES)]
        for cid in cids:
            await Outbox(store).enqueue(Reply(id=f"m_{cid}", conversation_id=cid, customer_id="cu",
                                              channel=chan.channel, account=chan.account, chat=f"chat-{cid}",
                                              text=f"好的 {cid}", author="alice"))
        parts = sorted({store.outbound_partition(cid) for cid in cids})
        senders = [Sender(store, Transcript(store), {(chan.channel, chan.account): chan}, OutboxSettings(),
                          claim_idle_ms=20_000, part=part) for part in parts]
        tasks = [asyncio.create_task(s.run()) for s in senders]
        try:
            async with asyncio.timeout(60):
                while len({r.conversation_id for r in chan.delivered} & set(cids)) < REPLIES:
                    await asyncio.sleep(0.05)
        finally:
            for s in senders:
                s.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 10)
        return cids

    # The first batch also opens the connections the senders' concurrency needs; the second is counted.
    await send("a")
    with counting() as writes:
        before = writes.writes
        cids = await send("b")
        spent = writes.writes - before - REPLIES  # the enqueues: one script call each
    assert sorted(r.conversation_id for r in chan.delivered if r.conversation_id in cids) == cids
    for cid in cids[:: REPLIES // 10]:  # what the second round trip wrote
        assert json.loads(await store.client.hget(store.keys.delivery(cid), f"m_{cid}")) == {"status": "sent"}
        assert await store.client.exists(store.keys.outbound_sent(f"m_{cid}"))
        assert len(await store.client.xrange(store.keys.transcript(cid))) == 1
    assert not await store.client.xlen(store.keys.outbound)  # every entry acked and deleted
    events = await store.client.xrange(store.keys.agent_events("alice"))
    assert len([e for _, e in events if '"delivery"' in e["f"]]) == 2 * REPLIES
    # The senders' own reads come on top (a blocking read per batch, the claim of idle entries).
    assert spent <= 2 * REPLIES + 40, f"{spent} round trips for {REPLIES} replies"
