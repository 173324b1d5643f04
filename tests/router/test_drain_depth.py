"""Draining considers the whole queue: a conversation a free agent can take is handed out when
capacity appears, however many conversations nobody free can take wait ahead of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from assign_harness import Harness, settings_for

DEEP = 60  # more than one page of the queue and more than the old 50-entry look-ahead


@pytest.fixture
async def h(routing_redis_url: str) -> AsyncIterator[Harness]:
    # `a` takes "x" only; `b` takes both and is the one holding work in the pool-drain cases.
    agents = [{"id": "a", "skills": {"x": 1}, "cap": 1},
              {"id": "b", "skills": {"x": 1, "y": 1}, "cap": DEEP + 1}]
    harness = await Harness(routing_redis_url, settings_for(agents, ["presale", "other"])).open()
    yield harness
    await harness.close()


async def flood(h: Harness, n: int = DEEP) -> None:
    """`n` conversations that need "y", which nobody free has."""
    for i in range(n):
        await h.arrive(f"y{i}", "presale", skills=("y",))


@pytest.mark.parametrize("trigger", ["online", "cap", "close"])
async def test_a_freed_agent_takes_the_first_conversation_it_can_however_deep(h: Harness, trigger: str) -> None:
    if trigger == "online":
        await flood(h)
        late = await h.arrive("late", "presale", skills=("x",))
        await h.status("a", "online")
    else:
        await h.status("a", "online")
        busy = await h.arrive("first", "presale", skills=("x",))
        assert await h.agent_of(busy) == "a"
        await flood(h)
        late = await h.arrive("late", "presale", skills=("x",))
        assert (await h.queue("presale"))[-1] == late  # waiting behind all of them
        if trigger == "cap":
            await h.set_cap("a", 2)
        else:
            await h.close_conv(busy)
    assert await h.agent_of(late) == "a"
    assert len(await h.queue("presale")) == DEEP


async def test_a_pool_drain_hands_out_past_the_conversations_nobody_free_can_take(h: Harness) -> None:
    # b takes the flood and then one "x" conversation; a comes online with nothing to do; b leaves,
    # and all DEEP + 1 go back to the front of the queue, the "x" one last (same time, later id).
    await h.status("b", "online")
    await flood(h)
    late = await h.arrive("late", "presale", skills=("x",))
    assert await h.load("b") == DEEP + 1
    await h.status("a", "online")
    await h.status("b", "offline")
    assert await h.agent_of(late) == "a"
    assert len(await h.queue("presale")) == DEEP


async def test_a_transfer_into_a_deep_queue_goes_to_the_free_agent(h: Harness) -> None:
    await h.status("b", "online")
    await flood(h)
    await h.status("a", "online")
    await h.status("b", "offline")  # the flood now waits at the front, where transfers go too
    moved = await h.arrive("moved", "other", skills=("x",))  # "other" has no members
    assert await h.agent_of(moved) is None
    await h.transfer(moved, "pool", "presale")  # lands behind the requeued flood
    assert await h.agent_of(moved) == "a"
