"""The route worker acks a batch with its next read (GroupConsumer.ack_with_read), and in its loop
the next batch comes along with each batch's routes (GroupConsumer.read_along): two round trips a
batch fewer at a peak. The acks must still land, before the read, through a failed read and at
the loop's end; an ack that fails must not cost the read its entries; entries brought along are
routed, once, even when the loop stops right after them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from helpers.workers import route_worker
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

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


async def test_in_the_loop_a_backlog_comes_along_with_the_routes(store: Store,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """300 new chats waiting, batches of 20: the first batch is read, every later one comes along
    with the routes before it, and the turn's own read runs only when nothing came along."""
    worker = await route_worker(store, batch_size=20)
    reads: list[int] = []
    real_read = worker.group.read

    async def counting(count: int, block_ms: int) -> list[tuple[str, dict[str, str]]]:
        got = await real_read(count, block_ms)
        reads.append(len(got))
        return got

    monkeypatch.setattr(worker.group, "read", counting)
    real = worker.process
    batches: list[int] = []

    async def then_stop(entries: list[tuple[str, dict[str, str]]]) -> None:
        batches.append(len(entries))
        await real(entries)
        if worker.routed == CHATS:
            worker.stop()

    monkeypatch.setattr(worker, "process", then_stop)
    await ingest(store, range(CHATS))
    await asyncio.wait_for(worker.run(), 20)
    assert worker.routed == CHATS and worker.delay.count == CHATS  # each routed once
    assert batches == [20] * 15
    assert reads == [20], reads  # one read; 14 batches came along with the routes before them
    assert await pending(store, worker) == 0 and await store.client.xlen(worker.group.stream) == 0
    conversations = await store.client.zcard(store.keys.conv_index)
    assert conversations == CHATS


async def test_entries_brought_along_are_routed_when_the_loop_stops(store: Store,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    worker = await route_worker(store, batch_size=50)
    real = worker.process

    async def stop_after_the_first(entries: list[tuple[str, dict[str, str]]]) -> None:
        await real(entries)
        worker.stop()  # the next 50 came along with these routes, and no turn follows

    monkeypatch.setattr(worker, "process", stop_after_the_first)
    await ingest(store, range(CHATS))
    await asyncio.wait_for(worker.run(), 10)
    assert worker.routed == 100
    # Nothing left pending in this consumer's name; the other 200 were never read.
    assert await pending(store, worker) == 0
    assert await store.client.xlen(worker.group.stream) == CHATS - 100


async def test_a_read_along_that_fails_brings_nothing_and_keeps_no_acks_unsent(
        store: Store, worker: RouteWorker, caplog: pytest.LogCaptureFixture) -> None:
    await ingest(store, range(CHATS))
    await worker.process(await worker.group.read(100, 10))
    along = worker.group.read_along(100)
    along.unsent()  # its pipeline failed: the acks it took go with the next read
    assert len(await worker.group.read(100, 10)) == 100
    assert await pending(store, worker) == 100  # the first hundred acked by that read
    with caplog.at_level(logging.WARNING, "kefu.streams"):
        assert worker.group.read_along(100).entries([ResponseError("NOGROUP no such group")]) == []
    assert "a read along with the routes failed" in caplog.text
