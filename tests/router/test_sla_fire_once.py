"""A timer claimed twice (its lease ran out while the first process was slow, so a second claimed it
again) fires its SLA action once: whichever claimant runs sla_fire.lua second does nothing and reports
nothing, in either order, for escalations and follow-up tasks alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from assign_harness import Harness, settings_for

N = 100  # conversations, each with an escalation and a follow-up timer
LEASE = 1.0
PROFILE = {"escalate": {"after": 4}, "follow_up": [{"after": 4.5, "task": "satisfaction_call"}]}


@pytest.fixture
async def h(routing_redis_url: str) -> AsyncIterator[Harness]:
    harness = await Harness(routing_redis_url, settings_for([{"id": "alice"}], ["presale", "supervisors"])).open()
    await harness.store.client.hset(harness.store.keys.sla_profiles, "complaint", json.dumps(PROFILE))
    try:
        yield harness
    finally:
        await harness.close()


async def claim(h: Harness, now: float) -> list[tuple[str, str]]:
    got: list[Any] = await h.store.call("timer_claim", [now, LEASE, 10 * N])
    return list(zip(got[1::2], got[2::2], strict=True))


async def fire(h: Harness, claimed: list[tuple[str, str]], now: float) -> list[str]:
    outcomes = []
    for tid, raw in claimed:
        data = json.loads(raw)
        res = await h.store.call("sla_fire", [tid, data["kind"], data["cid"], data["n"], now])
        outcomes.append(str(res[0]))
    return outcomes


@pytest.mark.parametrize("late_first", [False, True], ids=["stale-claim-last", "stale-claim-first"])
async def test_a_timer_claimed_twice_acts_once(h: Harness, late_first: bool) -> None:
    cids = [await h.arrive(f"u{i}", "presale", sla="complaint") for i in range(N)]
    due = h.now + 5
    slow = await claim(h, due)  # the first process claims every timer, then stalls past its lease
    assert len(slow) == 2 * N
    assert await claim(h, due + LEASE / 2) == []  # the lease still holds
    again = await claim(h, due + LEASE + 0.5)  # ran out: the second process claims them all again
    assert sorted(again) == sorted(slow)

    first, second = (slow, again) if late_first else (again, slow)
    acted = await fire(h, first, due + LEASE + 0.6)
    assert sorted(set(acted)) == ["escalated", "task"] and len(acted) == 2 * N
    assert await fire(h, second, due + LEASE + 0.7) == ["noop"] * (2 * N)

    r, k = h.store.client, h.store.keys
    assert await r.hlen(k.tasks) == N
    assert sorted(await r.zrange(k.pool_queue("supervisors"), 0, -1)) == sorted(cids)
    assert await r.zcard(k.timers_inflight) == 0 and await r.zcard(k.timers_due) == 0
    assert await r.hlen(k.timers_data) == 0
