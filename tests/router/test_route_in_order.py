"""The route worker's in-order check (router/pipeline/line_order.py): a sender's next
line after one this process routed goes without asking Redis, as does a sender's line 1 (a new
chat's first line: nothing comes before it); a later line of a sender this process has not
routed, or one after a gap, still asks, and one whose predecessor is routed nowhere waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from helpers.workers import route_all, route_worker

from router.models import WEBCHAT, Message
from router.pipeline.ingest import Ingestor
from router.pipeline.worker import RouteWorker
from router.store import Store
from router.store.keys import INBOUND_GROUP

USERS = [f"v{i}" for i in range(200)]


def line(user: str, n: int) -> Message:
    return Message(id=f"m-{user}-{n}", channel=WEBCHAT, account="web", native_id=f"{user}-{n}",
                   sender_ref=user, text=f"line {n}")


@pytest.fixture
async def worker(store: Store) -> AsyncIterator[RouteWorker]:
    yield await route_worker(store)


class Asked:
    """Counts the sender identities the worker asks Redis about."""

    def __init__(self, worker: RouteWorker) -> None:
        self.idents: list[str] = []
        real = worker.streams.routed_upto

        async def counting(idents: Sequence[str]) -> dict[str, int]:
            self.idents += idents
            return await real(idents)

        worker.streams.routed_upto = counting  # type: ignore[method-assign]



async def routed_marks(store: Store) -> dict[str, str]:
    """Each sender's last routed line number as Redis has it."""
    return {u: await store.client.get(store.keys.inbound_routed(f"webchat:web:{u}")) for u in USERS}


async def test_next_lines_of_senders_routed_here_ask_redis_nothing(store: Store, worker: RouteWorker) -> None:
    ingest = Ingestor(store)
    for u in USERS:
        await ingest.ingest(line(u, 1))
    asked = Asked(worker)
    assert await route_all(worker) == len(USERS)
    assert asked.idents == []  # every line 1 goes at once: nothing is before it
    assert set((await routed_marks(store)).values()) == {"1"}
    for n in (2, 3):
        for u in USERS:
            await ingest.ingest(line(u, n))
    assert await route_all(worker) == 2 * len(USERS)
    assert asked.idents == []
    assert worker.routed == 3 * len(USERS)
    assert set((await routed_marks(store)).values()) == {"3"}


async def test_a_line_after_a_gap_asks_and_waits_for_its_predecessor(store: Store, worker: RouteWorker) -> None:
    ingest = Ingestor(store)
    await ingest.ingest(line("v1", 1))
    await route_all(worker)
    # Line 2 goes to another process (read by another consumer, not routed yet); line 3 comes here.
    await ingest.ingest(line("v1", 2))
    other = await store.streams.read_new(store.keys.inbound, INBOUND_GROUP, "other-process", 1, 10)
    assert len(other) == 1
    await ingest.ingest(line("v1", 3))
    asked = Asked(worker)
    assert await route_all(worker) == 1
    assert asked.idents == ["webchat:web:v1"]  # line 3 does not follow line 1: ask
    assert worker.routed == 1  # held: its predecessor is routed nowhere yet
    assert list(worker.order.held) != []


async def test_a_sender_another_process_routed_is_asked_about(store: Store, worker: RouteWorker) -> None:
    ingest = Ingestor(store)
    await ingest.ingest(line("v7", 1))
    await store.streams.done(store.keys.inbound, INBOUND_GROUP,
                             [e[0] for e in await store.streams.read_new(store.keys.inbound, INBOUND_GROUP, "x", 1, 10)],
                             routed={"webchat:web:v7": 1})
    await ingest.ingest(line("v7", 2))
    asked = Asked(worker)
    assert await route_all(worker) == 1
    assert asked.idents == ["webchat:web:v7"]
    assert worker.routed == 1  # Redis said line 1 was routed: line 2 went
