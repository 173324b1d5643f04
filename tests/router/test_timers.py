"""Durable timers on a real Redis: each fires once across processes, and survives a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from router.pipeline.timers import TimerRunner
from router.store import Store


@pytest.fixture
async def stores(redis_url: str) -> AsyncIterator[list[Store]]:
    """Two Redis clients, as two router processes would have."""
    made = [Store(redis_url), Store(redis_url)]
    for s in made:
        await s.open()
    try:
        yield made
    finally:
        for s in made:
            await s.close()


def recorder(store: Store, log: list[tuple[str, str]], name: str) -> Any:
    async def handle(tid: str, data: dict[str, Any], now: float) -> None:
        log.append((name, tid))
        await store.client.incr(f"test:fired:{tid}")

    return handle


async def run_for(runners: list[TimerRunner], seconds: float) -> None:
    tasks = [asyncio.create_task(r.run()) for r in runners]
    await asyncio.sleep(seconds)
    for r in runners:
        r.stop()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)


async def test_two_processes_fire_every_timer_exactly_once(stores: list[Store]) -> None:
    log: list[tuple[str, str]] = []
    runners = [TimerRunner(s, max_sleep_s=0.05, batch=7) for s in stores]
    for i, r in enumerate(runners):
        r.on("ping", recorder(stores[i], log, f"p{i}"))
    now = time.time()
    for n in range(120):
        await runners[n % 2].schedule(f"t{n}", now + (n % 10) * 0.03, "ping")
    await run_for(runners, 1.0)
    fired = sorted(tid for _, tid in log)
    assert fired == sorted(f"t{n}" for n in range(120))
    counts = [int(await stores[0].client.get(f"test:fired:t{n}")) for n in range(120)]
    assert set(counts) == {1}
    k = stores[0].keys
    assert await stores[0].client.zcard(k.timers_due) == 0
    assert await stores[0].client.zcard(k.timers_inflight) == 0
    assert await stores[0].client.hlen(k.timers_data) == 0


async def test_timers_wait_for_their_time_and_survive_a_restart(stores: list[Store]) -> None:
    first, second = stores
    log: list[tuple[str, str]] = []
    a = TimerRunner(first, max_sleep_s=0.05)
    a.on("ping", recorder(first, log, "a"))
    await a.schedule("later", time.time() + 0.6, "ping")
    await a.schedule("moved", time.time() + 0.1, "ping")
    await a.schedule("moved", time.time() + 0.6, "ping")  # scheduling again moves it
    await a.schedule("cancelled", time.time() + 0.1, "ping")
    await a.cancel("cancelled")
    await run_for([a], 0.3)
    assert log == []  # nothing due yet; the process stops ("restart")

    b = TimerRunner(second, max_sleep_s=0.05)
    b.on("ping", recorder(second, log, "b"))
    await run_for([b], 0.8)
    assert sorted(log) == [("b", "later"), ("b", "moved")]


async def test_a_claim_whose_process_died_is_fired_by_another_after_its_lease(stores: list[Store]) -> None:
    first, second = stores
    log: list[tuple[str, str]] = []
    dying = TimerRunner(first, lease_s=0.4)
    await dying.schedule("orphan", time.time(), "ping")
    # The first process claims the timer and dies before its handler runs: no ack.
    claimed = await first.call("timer_claim", [time.time(), 0.4, 10])
    assert claimed[1::2] == ["orphan"]

    b = TimerRunner(second, max_sleep_s=0.05, lease_s=0.4)
    b.on("ping", recorder(second, log, "b"))
    await b.tick()
    assert log == []  # the lease still holds
    await run_for([b], 0.8)
    assert log == [("b", "orphan")]
    assert await second.client.zcard(second.keys.timers_inflight) == 0


async def test_a_failing_handler_is_retried_after_its_lease(stores: list[Store]) -> None:
    store = stores[0]
    calls: list[float] = []

    async def flaky(tid: str, data: dict[str, Any], now: float) -> None:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("boom")

    r = TimerRunner(store, max_sleep_s=0.05, lease_s=0.2)
    r.on("ping", flaky)
    await r.schedule("x", time.time(), "ping")
    await run_for([r], 0.7)
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.2
    assert r.fired == 1
