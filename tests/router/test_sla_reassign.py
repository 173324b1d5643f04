"""A missed first response goes to the agent the pool's policy chooses (sla_fire.lua through
policy.lua's choose), never back to the agent who missed it, never to one without the skill or at
cap; the decision record says why (trigger `sla_reassign`, the agent passed over and its reason)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from assign_harness import Harness, settings_for

Open = Callable[..., Any]


@pytest.fixture
async def harness(routing_redis_url: str) -> AsyncIterator[Open]:
    opened: list[Harness] = []

    async def open_(agents: list[dict[str, Any]], assignment: str = "") -> Harness:
        h = await Harness(routing_redis_url, settings_for(agents, ["presale"], assignment)).open()
        opened.append(h)
        await h.store.client.hset(h.store.keys.sla_profiles, "quick", json.dumps({"first_response": 60}))
        return h

    yield open_
    for h in opened:
        await h.close()


async def miss_first_response(h: Harness, cid: str) -> list[Any]:
    """Fire the conversation's first-response timer just after it is due, as the timer runner does."""
    due = json.loads((await h.conv(cid))["sla"])["first_response_due"]
    h.now = due + 1
    res: list[Any] = await h.store.call("sla_fire", [f"{cid}:first", "first_response", cid, 0, h.now])
    return res


def reasons(record: dict[str, Any]) -> dict[str, str]:
    return {c["agent"]: c["reason"] for c in record["candidates"]}


async def test_round_robin_pool_reassigns_to_the_next_in_turn(harness: Open) -> None:
    h = await harness([{"id": "a", "skills": {"shoes": 1}}, {"id": "b", "skills": {"shoes": 1}}, {"id": "c"},
                       {"id": "d", "skills": {"shoes": 1}, "cap": 1}, {"id": "e", "skills": {"shoes": 1}}],
                      assignment="assignment:\n  policy: round_robin")
    for aid in "abcde":
        await h.status(aid, "online")
    got = [await h.agent_of(await h.arrive(f"u{i}", "presale")) for i in range(5)]
    assert got == ["a", "b", "c", "d", "e"]  # d is now at its cap of 1
    cid = await h.arrive("shopper", "presale", skills=("shoes",), sla="quick")
    assert await h.agent_of(cid) == "a"
    assert await h.agent_of(await h.arrive("u5", "presale")) == "b"  # the cursor stands at b

    assert await miss_first_response(h, cid) == ["reassigned", "e"]
    # After b comes c (no shoes skill), d (at cap), e: the turn is e's. The first free agent with
    # the skill, which the scan of its own used to take, would have been b.
    assert await h.agent_of(cid) == "e"
    assert await h.load("a") == 1 and await h.load("d") == 1
    rec = await h.record(cid)
    assert rec["policy"] == "round_robin" and rec["chosen"] == "e"
    assert rec["assignment"]["trigger"] == "sla_reassign"
    assert rec["candidates"][0] == {"agent": "a", "eligible": False, "reason": "missed_first_response",
                                    "load": 2, "cap": 5}  # as it was when it was passed over
    assert reasons(rec) == {"a": "missed_first_response", "c": "missing_skill:shoes", "e": "chosen",
                            "b": "not_examined", "d": "at_cap"}
    # The pool's cursor moved on as for any round-robin choice.
    assert await h.store.client.get(h.store.keys.pool_rr_cursor("presale")) == "e"


async def test_least_loaded_pool_reassigns_to_the_least_loaded_with_the_skill(harness: Open) -> None:
    h = await harness([{"id": "a", "skills": {"shoes": 1}}, {"id": "b", "skills": {"shoes": 1}},
                       {"id": "c", "skills": {"shoes": 1}}, {"id": "d"}, {"id": "e", "skills": {"shoes": 1}, "cap": 1}])
    # Loads built one agent at a time: b 2, c 1, e 1 (its cap), then the shopper to a; d last, idle.
    for aid, arrivals in (("b", 2), ("c", 1), ("e", 1)):
        await h.status(aid, "online")
        for i in range(arrivals):
            assert await h.agent_of(await h.arrive(f"{aid}{i}", "presale")) == aid
    await h.status("a", "online")
    cid = await h.arrive("shopper", "presale", skills=("shoes",), sla="quick")
    assert await h.agent_of(cid) == "a"
    await h.status("d", "online")

    assert await miss_first_response(h, cid) == ["reassigned", "c"]
    rec = await h.record(cid)
    assert rec["policy"] == "least_loaded" and rec["assignment"]["trigger"] == "sla_reassign"
    assert reasons(rec) == {"a": "missed_first_response", "d": "missing_skill:shoes", "c": "chosen",
                            "b": "not_examined", "e": "at_cap"}
    assert [await h.load(x) for x in "abcde"] == [0, 2, 2, 0, 1]


async def test_the_customers_last_agent_is_not_chosen_back(harness: Open) -> None:
    h = await harness([{"id": "a"}, {"id": "b"}])
    await h.status("a", "online")
    first = await h.arrive("shopper", "presale")
    await h.close_conv(first)  # a is now the shopper's last agent: stickiness would choose a again
    h.tick(700)
    await h.status("b", "online")
    cid = await h.arrive("shopper", "presale", sla="quick")
    assert await h.agent_of(cid) == "a" and (await h.record(cid))["assignment"]["sticky"]["outcome"] == "chosen"

    assert await miss_first_response(h, cid) == ["reassigned", "b"]
    rec = await h.record(cid)
    assert "sticky" not in rec["assignment"] and reasons(rec)["a"] == "missed_first_response"


async def test_nobody_else_eligible_keeps_the_agent_and_the_record(harness: Open) -> None:
    h = await harness([{"id": "a", "skills": {"shoes": 1}}, {"id": "b"}])
    for aid in "ab":
        await h.status(aid, "online")
    cid = await h.arrive("shopper", "presale", skills=("shoes",), sla="quick")
    before = await h.record(cid)
    assert await miss_first_response(h, cid) == ["breached", "a"]
    assert await h.agent_of(cid) == "a" and await h.record(cid) == before
