"""A conversation's replies reach the customer in order even when the earlier one reaches this
sender after the later one (taken back from a sender that died): the later one steps aside for
it, instead of waiting out its bound (here 45 s) and going first."""

from __future__ import annotations

import asyncio

from helpers.fake_channel import ScriptedChannel

from adapters.base import Deps
from router.config.settings import OutboxSettings
from router.models import Reply
from router.pipeline.ingest import Ingestor
from router.pipeline.outbox import Outbox, Sender
from router.pipeline.transcript import Transcript
from router.store import Store


async def test_an_earlier_reply_arriving_late_goes_first(store: Store) -> None:
    chan = ScriptedChannel("shop", Deps(Ingestor(store), store))
    outbox = Outbox(store)
    for n in (1, 2):
        await outbox.enqueue(Reply(id=f"m_{n}", conversation_id="c1", customer_id="cu1", channel=chan.channel,
                                   account=chan.account, chat="chat-1", text=f"reply {n}", author="alice"))
    # Take both entries off the stream, then put back number 2 alone: number 1 is "elsewhere".
    raw, stream = store.client, store.keys.partition(store.outbound_partition("c1")).outbound
    entries = await raw.xrange(stream)
    await raw.delete(stream)
    by_seq = {int(f["seq"]): f for _, f in entries}
    assert sorted(by_seq) == [1, 2]
    await raw.xadd(stream, by_seq[2])
    sender = Sender(store, Transcript(store), {(chan.channel, chan.account): chan}, OutboxSettings(),
                    claim_idle_ms=20_000, part=store.outbound_partition("c1"))
    task = asyncio.create_task(sender.run())
    try:
        await asyncio.sleep(1.0)
        assert chan.delivered == []  # number 2 waits for number 1
        await raw.xadd(stream, by_seq[1])
        async with asyncio.timeout(10):
            while len(chan.delivered) < 2:
                await asyncio.sleep(0.02)
    finally:
        sender.stop()
        await asyncio.wait_for(task, 10)
    assert [r.text for r in chan.delivered] == ["reply 1", "reply 2"]


async def test_many_conversations_each_keep_their_order(store: Store) -> None:
    """300 conversations, three replies each, every one of them handed over in reverse order: each
    conversation still gets 1, 2, 3, and the sender never holds more than its concurrency."""
    chan = ScriptedChannel("shop", Deps(Ingestor(store), store))
    outbox = Outbox(store)
    cids = [f"c{i:03d}" for i in range(300)]
    for cid in cids:
        for n in (1, 2, 3):
            await outbox.enqueue(Reply(id=f"m_{cid}_{n}", conversation_id=cid, customer_id="cu", channel=chan.channel,
                                       account=chan.account, chat=f"chat-{cid}", text=f"{cid} {n}", author="alice"))
    parts = {store.outbound_partition(cid) for cid in cids}
    for part in parts:
        stream = store.keys.partition(part).outbound
        entries = await store.client.xrange(stream)
        await store.client.delete(stream)
        for _, fields in sorted(entries, key=lambda e: -int(e[1]["seq"])):
            await store.client.xadd(stream, fields)
    settings = OutboxSettings()
    senders = [Sender(store, Transcript(store), {(chan.channel, chan.account): chan}, settings,
                      claim_idle_ms=20_000, part=part) for part in parts]
    tasks = [asyncio.create_task(s.run()) for s in senders]
    try:
        async with asyncio.timeout(60):
            while len(chan.delivered) < 900:
                await asyncio.sleep(0.05)
    finally:
        for s in senders:
            s.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    by_cid: dict[str, list[str]] = {}
    for r in chan.delivered:
        by_cid.setdefault(r.conversation_id, []).append(r.text or "")
    assert by_cid == {cid: [f"{cid} {n}" for n in (1, 2, 3)] for cid in cids}
