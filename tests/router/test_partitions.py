"""Partitioned streams on one Redis: where a line and a reply go, and the refusal to change the
count while entries wait (`redis.partitions`)."""

from __future__ import annotations

import zlib
from collections import Counter

import pytest

from kefu_common.errors import StoreError
from router.config.limits import RedisSettings
from router.models import WEBCHAT, Message
from router.pipeline.ingest import Ingestor
from router.store import Store
from router.store.keys import INBOUND_GROUP, Keys


def line(user: str, n: int) -> Message:
    return Message(id=f"m-{user}-{n}", channel=WEBCHAT, account="web", native_id=f"{user}-{n}",
                   sender_ref=user, text=f"line {n}")


def test_partition_keys_have_their_own_tags_and_partition_0_keeps_the_old_names() -> None:
    k = Keys("shop")
    assert k.partition(0) is k and k.partition(0).inbound == "{in:shop}:stream"
    assert k.partition(2).inbound == "{in:shop:2}:stream"
    assert k.partition(2).outbound_done("c1") == "{out:shop:2}:done:c1"
    assert k.partition(2).inbound_dead_letters == "{in:shop:2}:dead-letters"
    assert k.partition(2).conv("c1") == k.conv("c1")  # routing keys do not move
    # Stable across processes (not Python's salted hash), and spread.
    assert Keys.partition_of("webchat:web:v1", 3) == zlib.crc32(b"webchat:web:v1") % 3
    assert Keys.partition_of("anything", 1) == 0
    spread = Counter(Keys.partition_of(f"c_{i}", 3) for i in range(600))
    assert set(spread) == {0, 1, 2} and min(spread.values()) > 150


async def test_a_customers_lines_share_a_partition_and_are_numbered(redis_url: str) -> None:
    store = Store(redis_url, options=RedisSettings(partitions=3))
    await store.open()
    try:
        ingest = Ingestor(store)
        users = [f"v{i}" for i in range(300)]
        for n in range(1, 4):
            for u in users:
                await ingest.ingest(line(u, n))
        seen: dict[str, list[tuple[int, int]]] = {}
        for p in range(3):
            for _, f in await store.client.xrange(store.keys.partition(p).inbound):
                user = f["m"].split('"sender_ref":"')[1].split('"')[0]
                seen.setdefault(user, []).append((p, int(f["n"])))
        assert len(seen) == 300
        for u, got in seen.items():
            p = store.inbound_partition(f"webchat:web:{u}")
            assert got == [(p, 1), (p, 2), (p, 3)], (u, got)
        assert {p for got in seen.values() for p, _ in got} == {0, 1, 2}
    finally:
        await store.close()


async def test_changing_the_count_is_refused_while_entries_wait(redis_url: str) -> None:
    one = Store(redis_url)
    await one.open()
    three = Store(redis_url, options=RedisSettings(partitions=3))
    await three.open()
    try:
        await one.settle_partitions()
        await one.streams.ensure_group(one.keys.inbound, INBOUND_GROUP)
        await Ingestor(one).ingest(line("v1", 1))
        before = sorted(await one.client.keys("*"))
        with pytest.raises(StoreError) as refused:
            await three.settle_partitions()
        assert str(refused.value) == (
            "redis.partitions is 3 but the streams still hold 1 entries written with 1: run with "
            'redis.partitions: 1 until they are drained (docs/operations.md, "Partitions")')
        assert sorted(await one.client.keys("*")) == before  # the refusal changed nothing
        # Drained: the new count is taken and recorded; the old one is refused from then on.
        entries = await one.streams.read_new(one.keys.inbound, INBOUND_GROUP, "c", 10, 0)
        await one.streams.done(one.keys.inbound, INBOUND_GROUP, [e[0] for e in entries])
        await three.settle_partitions()
        assert await one.client.get(one.keys.stream_partitions) == "3"
        await one.settle_partitions()  # 1 again: nothing waits in the three, so it is allowed
        assert await one.client.get(one.keys.stream_partitions) == "1"
    finally:
        await one.close()
        await three.close()
