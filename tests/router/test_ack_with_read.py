"""The route worker acks a batch with its next read (GroupConsumer.ack_with_read): one round trip a
batch fewer. The acks must still land, before the read, through a failed read and at the loop's
end, and an ack that fails must not cost the read its entries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from helpers.workers import route_worker
from redis.exceptions import ConnectionError as RedisConnectionError

from router.models import WEBCHAT, Message
from router.pipeline.ingest import Ingestor
from router.pipeline.worker import RouteWorker
from router.store import Store
from router.store.keys import INBOUND_GROUP

CHATS = 300


def first_line(i: int) -> Message:
    return Message(id=f"m-{i}", channel=WEBCHAT, account="web", native_id=f"n-{i}", sender_ref=f"v{i}",
                   text="在吗")


@pytest.fixture
async def worker(store: Store) -> AsyncIterator[RouteWorker]:
    yield await route_worker(store)


async def ingest(store: Store, ids: range) -> None:
    into = Ingestor(store)
    for i in ids:
        await into.ingest(first_line(i))


async def pending(store: Store, worker: RouteWorker) -> int:
    return int((await store.client.xpending(worker.group.stream, INBOUND_GROUP))["pending"])


async def test_a_batch_is_acked_by_the_next_read_and_by_no_round_trip_of_its_own(
        store: Store, worker: RouteWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_separate_ack(*args: object, **kwargs: object) -> None:
        raise AssertionError("an ack went out in a round trip of its own")

    monkeypatch.setattr(worker.streams, "done", no_separate_ack)
    await ingest(store, range(CHATS))
    first = await worker.group.read(100, 10)
    await worker.process(first)
    assert worker.routed == 100
    # Routed, and not yet acked: the ack waits for the read.
    assert await pending(store, worker) == 100
    second = await worker.group.read(100, 10)
    assert len(second) == 100 and not {e[0] for e in first} & {e[0] for e in second}
    assert await pending(store, worker) == 100  # the first hundred acked, the second read
    assert await store.client.xlen(worker.group.stream) == CHATS - 100
    assert await store.client.get(store.keys.inbound_routed("webchat:web:v0")) == "1"
    await worker.process(second)
    while entries := await worker.group.read(100, 10):
        await worker.process(entries)
    assert worker.routed == CHATS
    assert await pending(store, worker) == 0 and await store.client.xlen(worker.group.stream) == 0


async def test_acks_held_by_a_failed_read_go_with_the_next(store: Store, worker: RouteWorker,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    await ingest(store, range(CHATS))
    await worker.process(await worker.group.read(CHATS, 10))
    real = worker.streams.read_new

    async def broken(*args: object, **kwargs: object) -> list[object]:
        raise RedisConnectionError("the connection dropped")

    monkeypatch.setattr(worker.streams, "read_new", broken)
    for _ in range(3):
        with pytest.raises(RedisConnectionError):
            await worker.group.read(100, 10)
    assert await pending(store, worker) == CHATS
    monkeypatch.setattr(worker.streams, "read_new", real)
    assert await worker.group.read(100, 10) == []
    assert await pending(store, worker) == 0 and await store.client.xlen(worker.group.stream) == 0


async def test_a_failed_ack_costs_the_read_none_of_its_entries(store: Store, worker: RouteWorker,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    await ingest(store, range(CHATS))
    batch = await worker.group.read(100, 10)
    await worker.process(batch)
    # The failed tries' hash is the wrong type: that ack's HDEL fails inside the read's round trip.
    assert worker.group.dead is not None
    await store.client.set(worker.group.dead.tries, "not a hash")
    with caplog.at_level(logging.WARNING, "kefu.streams"):
        second = await worker.group.read(100, 10)
    assert len(second) == 100
    assert "an ack sent with the read failed" in caplog.text and "WRONGTYPE" in caplog.text
    assert await store.client.xlen(worker.group.stream) == CHATS - 100  # the rest of that ack landed


async def test_the_loop_sends_its_last_acks_when_it_stops(store: Store, worker: RouteWorker,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real = worker.process

    async def then_stop(entries: list[tuple[str, dict[str, str]]]) -> None:
        await real(entries)
        if worker.routed == CHATS:
            worker.stop()  # no read comes after the last batch: only the stop can send its ack

    monkeypatch.setattr(worker, "process", then_stop)
    await ingest(store, range(CHATS))
    await asyncio.wait_for(worker.run(), 10)
    assert worker.routed == CHATS
    assert await pending(store, worker) == 0 and await store.client.xlen(worker.group.stream) == 0
