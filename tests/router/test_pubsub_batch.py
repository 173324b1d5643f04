"""The fan-out reads pub/sub a burst at a time (router/store/pubsub.py, `Subscription.batch`):
frames already in the buffer come with the first, in the order published, and anything that is
not a frame is left for `next`, which knows what it means."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from router.store import Store


async def test_a_burst_comes_in_few_batches_in_order(store: Store) -> None:
    k = store.keys
    sub = await store.subscribe(k.agent_channel, k.customer_channel)
    try:
        sent = [(k.agent_channel if i % 3 else k.customer_channel, f"a{i}\n1-{i}\n{{}}") for i in range(60)]
        for channel, data in sent:
            await store.publish(channel, data)
        await asyncio.sleep(0.2)  # the whole burst is in the subscriber's socket
        got: list[tuple[str, str]] = []
        calls = 0
        async with asyncio.timeout(10):
            while len(got) < len(sent):
                part = await sub.batch(wait_s=0.5)
                calls += part != []
                got += part
        assert got == sent
        assert calls <= 3, calls  # one await per frame would be 60
    finally:
        await sub.close()


async def test_a_batch_leaves_an_unsubscribe_it_did_not_ask_for_to_next(store: Store) -> None:
    """Frames before a server's unsubscribe come in a batch; the unsubscribe still ends the
    subscription (a shard channel's slot moved), so its owner subscribes again and replays."""
    k = store.keys
    sub = await store.subscribe(k.agent_channel, k.customer_channel)
    try:
        async with asyncio.timeout(10):
            while len(sub._open) < 2:  # the confirmations, read by `next`
                assert await sub.batch(wait_s=0.5) == []
        for i in range(3):
            await store.publish(k.agent_channel, f"a\n1-{i}\n{{}}")
        await sub._pubsub.unsubscribe(k.customer_channel)  # what a slot's move looks like here
        # The unsubscribe goes on the subscription's connection and the next publish on another:
        # Redis must have taken the first before the second, or the frame may come before it.
        async with asyncio.timeout(10):
            while (await store.client.pubsub_numsub(k.customer_channel))[0][1] != 0:
                await asyncio.sleep(0.01)
        await store.publish(k.agent_channel, "a\n1-9\n{}")
        await asyncio.sleep(0.2)
        assert [d for _, d in await sub.batch(wait_s=0.5)] == [f"a\n1-{i}\n{{}}" for i in range(3)]
        with pytest.raises(RedisConnectionError):
            await sub.batch(wait_s=0.5)
    finally:
        await sub.close()
