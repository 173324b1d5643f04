"""`kefu_route_delay_seconds`: how long each line waited from Redis taking it in to its route by a
route worker (router/pipeline/worker.py), the queue a burst of new chats meets at a peak."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from helpers.workers import route_worker
from prometheus_client.parser import text_string_to_metric_families

from router.config.settings import parse_settings
from router.models import WEBCHAT, Message
from router.pipeline.ingest import Ingestor
from router.stalls import Histogram
from router.store import Store

CHATS = 300


async def test_the_wait_before_the_route_is_measured_from_the_intake(store: Store) -> None:
    """300 new chats taken in, then a 0.3 s hold before the worker reads them: every one of them
    waited at least that long, by Redis's clock, and none is counted twice."""
    worker = await route_worker(store)
    ingest = Ingestor(store)
    for i in range(CHATS):
        await ingest.ingest(Message(id=f"m-{i}", channel=WEBCHAT, account="web", native_id=f"n-{i}",
                                    sender_ref=f"v{i}", text="在吗"))
    await asyncio.sleep(0.3)
    while entries := await worker.group.read(100, 10):
        await worker.process(entries)
        await worker.process(entries)  # read again (a crash, a claim): routed before, not counted again
    assert worker.delay.count == CHATS
    assert worker.delay.over(0.25) == CHATS, worker.delay.counts
    assert worker.delay.over(10.0) == 0
    assert CHATS * 0.3 <= worker.delay.sum < CHATS * 10


def test_histograms_add_up_only_with_the_same_bounds() -> None:
    a, b = Histogram((0.1, 1.0)), Histogram((0.1, 1.0))
    a.observe(0.05)
    b.observe(0.5)
    b.observe(5.0)
    a.add(b)
    assert a.counts == [1, 1, 1] and a.count == 3 and abs(a.sum - 5.55) < 1e-9
    with pytest.raises(ValueError, match="different bounds"):
        a.add(Histogram((0.1,)))


async def test_metrics_report_the_route_delay(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=2), "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper, _ = await customer(http, base)
        # A new visitor's first line is decided and routed as it is taken in: no route worker's
        # queue, nothing counted here. The line after a close goes through the route worker.
        await shopper.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        first = await alice.expect(lambda f: f["type"] == "assigned")
        cid = first["conversation"]["id"]
        await alice.send({"type": "close", "conversation_id": cid})
        await shopper.expect(lambda f: f["type"] == "closed")
        await shopper.send({"type": "message", "text": "还有一个问题", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "assigned" and len(alice.of("assigned")) == 2)
        async with http.get(f"{base}/metrics") as r:
            assert r.status == 200
            text = await r.text()
        await shopper.close()
        await alice.close()
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert got[("kefu_route_delay_seconds_count", ())] == 1
    assert 0 <= got[("kefu_route_delay_seconds_sum", ())] < 5
    assert got[("kefu_route_delay_seconds_bucket", (("le", "+Inf"),))] == 1
