"""Choosing an agent: each policy, stickiness, skills and levels, weighted load, the record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from assign_harness import Harness, settings_for

from kefu_common.errors import ConfigError
from router.config.settings import parse_settings

Open = Callable[..., Any]


@pytest.fixture
async def harness(routing_redis_url: str) -> AsyncIterator[Open]:
    opened: list[Harness] = []

    async def open_(agents: list[dict[str, Any]], pools: list[str] | None = None, assignment: str = "",
                    online: bool = True) -> Harness:
        h = await Harness(routing_redis_url, settings_for(agents, pools or ["presale"], assignment)).open()
        opened.append(h)
        if online:
            for a in agents:
                await h.status(a["id"], "online")
        return h

    yield open_
    for h in opened:
        await h.close()


def reasons(record: dict[str, Any]) -> dict[str, str]:
    return {c["agent"]: c["reason"] for c in record["candidates"]}


async def test_least_loaded_then_longest_idle_then_skill_level(harness: Open) -> None:
    h = await harness([{"id": "a", "skills": {"shoes": 2}}, {"id": "b", "skills": {"shoes": 4}},
                       {"id": "c", "skills": {"shoes": 3}}])
    # Nobody assigned yet: equal load and idle time, so the higher level wins.
    first = await h.arrive("u1", "presale", skills=("shoes",))
    assert await h.agent_of(first) == "b"
    # b now has one; a and c are tied on load and idle, c has the higher level.
    second = await h.arrive("u2", "presale", skills=("shoes",))
    assert await h.agent_of(second) == "c"
    # a is the least loaded.
    third = await h.arrive("u3", "presale", skills=("shoes",))
    assert await h.agent_of(third) == "a"
    # All at load 1: b was assigned longest ago.
    fourth = await h.arrive("u4", "presale", skills=("shoes",))
    assert await h.agent_of(fourth) == "b"
    rec = await h.record(fourth)
    assert rec["policy"] == "least_loaded" and rec["chosen"] == "b"
    assert rec["candidates"][0] == {"agent": "b", "eligible": True, "reason": "chosen", "load": 1, "cap": 5}


async def test_round_robin_cycles_by_id_whatever_the_load(harness: Open) -> None:
    h = await harness([{"id": "a"}, {"id": "b"}, {"id": "c"}], assignment="assignment:\n  policy: round_robin")
    got = [await h.agent_of(await h.arrive(f"u{i}", "presale")) for i in range(7)]
    assert got == ["a", "b", "c", "a", "b", "c", "a"]
    # A full agent is skipped, and the cycle goes on after the one chosen.
    await h.set_cap("b", 2)
    got = [await h.agent_of(await h.arrive(f"v{i}", "presale")) for i in range(3)]
    assert got == ["c", "a", "c"]
    assert (await h.record(await h.arrive("w", "presale")))["policy"] == "round_robin"


async def test_longest_idle_ignores_load(harness: Open) -> None:
    h = await harness([{"id": "a"}, {"id": "b"}], assignment="assignment:\n  policy: longest_idle")
    c1 = await h.arrive("u1", "presale")
    c2 = await h.arrive("u2", "presale")
    assert {await h.agent_of(c1), await h.agent_of(c2)} == {"a", "b"}
    first = await h.agent_of(c1)
    await h.close_conv(c2)  # the second agent is now less loaded, but the first is idle longer
    c3 = await h.arrive("u3", "presale")
    assert await h.agent_of(c3) == first


async def test_per_pool_policy_override(harness: Open) -> None:
    h = await harness([{"id": "a", "pools": ["presale", "vip"]}, {"id": "b", "pools": ["presale", "vip"]}],
                      pools=["presale", "vip"],
                      assignment="assignment:\n  policy: least_loaded\n  pools: {vip: round_robin}")
    c1 = await h.arrive("u1", "vip")
    c2 = await h.arrive("u2", "presale")
    assert (await h.record(c1))["policy"] == "round_robin"
    assert (await h.record(c2))["policy"] == "least_loaded"


async def test_skills_and_levels_decide_eligibility(harness: Open) -> None:
    h = await harness([{"id": "a"}, {"id": "b", "skills": {"refund": 2}}, {"id": "c", "skills": {"refund": 4}},
                       {"id": "d", "skills": {"refund": 5}, "cap": 1}])
    busy = await h.arrive("u0", "presale", skills=("refund",), min_level=5)
    assert await h.agent_of(busy) == "d"
    cid = await h.arrive("u1", "presale", skills=("refund",), min_level=3)
    assert await h.agent_of(cid) == "c"
    rec = await h.record(cid)
    assert reasons(rec) == {"a": "missing_skill:refund", "b": "level_below:refund", "c": "chosen", "d": "at_cap"}
    assert {c["agent"]: c["eligible"] for c in rec["candidates"]} == {"a": False, "b": False, "c": True, "d": False}
    # Nobody qualifies: it waits, and the record says why.
    waiting = await h.arrive("u2", "presale", skills=("refund",), min_level=5)
    assert await h.queue("presale") == [waiting]
    rec = await h.record(waiting)
    assert rec["chosen"] is None and reasons(rec)["d"] == "at_cap"
    # d's slot frees: the waiting conversation is theirs at once.
    await h.close_conv(busy)
    assert await h.agent_of(waiting) == "d"
    assert (await h.record(waiting))["assignment"]["trigger"] == "agent_free"


async def test_sticky_within_window_after_window_and_ineligible(harness: Open) -> None:
    h = await harness([{"id": "a"}, {"id": "b"}], assignment="assignment:\n  sticky_window_s: 3600")
    first = await h.arrive("cust", "presale")
    last = await h.agent_of(first)
    other = "b" if last == "a" else "a"
    await h.close_conv(first)
    h.tick(700)  # past the reopen window: a new conversation, and `last` is now busier
    await h.arrive("someone", "presale")
    assert await h.load(last) == 1 or await h.load(other) == 1
    again = await h.arrive("cust", "presale")
    assert await h.agent_of(again) == last
    rec = await h.record(again)
    assert rec["assignment"]["sticky"] == {"agent": last, "outcome": "chosen"}
    assert reasons(rec)[last] == "sticky"

    # Their last agent is away: the policy decides, and the record says why not sticky.
    await h.close_conv(again)
    await h.status(last, "away")
    h.tick(700)
    third = await h.arrive("cust", "presale")
    assert await h.agent_of(third) == other
    rec = await h.record(third)
    assert rec["assignment"]["sticky"] == {"agent": last, "outcome": "away"}
    assert reasons(rec)[last] == "away"

    # Past the window: no stickiness.
    await h.status(last, "online")
    await h.close_conv(third)
    h.tick(3601)
    fourth = await h.arrive("cust", "presale")
    rec = await h.record(fourth)
    assert rec["assignment"]["sticky"] == {"agent": other, "outcome": "expired"}


async def test_sticky_needs_the_skill(harness: Open) -> None:
    h = await harness([{"id": "a", "skills": {"refund": 1}}, {"id": "b", "skills": {"refund": 5}}])
    first = await h.arrive("cust", "presale")
    last = await h.agent_of(first)
    await h.close_conv(first)
    h.tick(700)
    again = await h.arrive("cust", "presale", skills=("refund",), min_level=3)
    assert await h.agent_of(again) == "b"
    if last == "a":
        assert (await h.record(again))["assignment"]["sticky"]["outcome"] == "level_below:refund"


async def test_weighted_load_counts_quiet_conversations_as_part_of_a_slot(harness: Open) -> None:
    assignment = "assignment:\n  weighted_load: {enabled: true, after_s: 60, fraction: 0.25}"
    h = await harness([{"id": "a", "cap": 10}, {"id": "b", "cap": 10}], assignment=assignment,
                      online=False)
    await h.status("a", "online")
    quiet = [await h.arrive(f"q{i}", "presale") for i in range(3)]
    await h.status("b", "online")
    busy = [await h.arrive(f"b{i}", "presale") for i in range(2)]
    assert [await h.agent_of(c) for c in busy] == ["b", "b"]
    for cid in quiet:
        await h.reply(cid, "a")  # a answered; these now wait on the customer
    h.tick(120)
    # Raw load a=3, b=2; weighted a=0.75, b=2.
    cid = await h.arrive("new", "presale")
    assert await h.agent_of(cid) == "a"
    rec = await h.record(cid)
    assert {c["agent"]: c["load"] for c in rec["candidates"]} == {"a": 0.75, "b": 2}


async def test_record_lists_unavailable_agents_of_a_small_pool(harness: Open) -> None:
    h = await harness([{"id": "a"}, {"id": "b"}, {"id": "c", "cap": 0}, {"id": "d"}], online=False)
    await h.status("a", "online")
    await h.status("b", "away")
    await h.status("c", "online")
    cid = await h.arrive("u", "presale")
    rec = await h.record(cid)
    assert rec["chosen"] == "a" and rec["policy"] == "least_loaded"
    assert reasons(rec) == {"a": "chosen", "b": "away", "c": "at_cap", "d": "offline"}
    assert rec["assignment"]["members"] == 4 and rec["assignment"]["free"] == 1  # free when it chose
    assert rec["pool"] == "presale"  # the rules' part of the record is still there


async def test_record_is_bounded(harness: Open) -> None:
    agents = [{"id": f"a{i:02d}"} for i in range(30)]
    h = await harness(agents, assignment="assignment:\n  record_candidates: 5")
    cid = await h.arrive("u", "presale", skills=("rare",))
    rec = await h.record(cid)
    assert len(rec["candidates"]) == 5 and rec["assignment"]["examined"] == 30
    assert all(c["reason"] == "missing_skill:rare" for c in rec["candidates"])


async def test_preview_changes_nothing(harness: Open) -> None:
    h = await harness([{"id": "a"}, {"id": "b"}], assignment="assignment:\n  policy: round_robin")
    cid = await h.arrive("u", "presale")
    before = await h.store.client.get(h.store.keys.pool_rr_cursor("presale"))
    chosen, record = await h.store.call("choose", [cid, "presale", "[]", 1, h.now])
    assert chosen == "b" and '"preview"' in record
    assert await h.store.client.get(h.store.keys.pool_rr_cursor("presale")) == before


async def test_queue_aging_lets_long_waits_overtake(harness: Open) -> None:
    h = await harness([{"id": "a", "cap": 0}], assignment="assignment:\n  aging_s_per_priority: 6")
    old = await h.arrive("old", "presale", priority=10)
    h.tick(30)
    vip = await h.arrive("vip", "presale", priority=20)  # 10 points are worth 60 s: ahead of old
    h.tick(100)
    low = await h.arrive("low", "presale", priority=10)
    h.tick(5)
    late_vip = await h.arrive("late", "presale", priority=20)  # ahead of low, but old waited > 60 s more
    assert await h.queue("presale") == [vip, old, late_vip, low]


async def test_strict_priority_without_aging_and_requeues_go_first(harness: Open) -> None:
    h = await harness([{"id": "a", "cap": 1}], assignment="assignment:\n  aging_s_per_priority: 0")
    held = await h.arrive("held", "presale", priority=0)
    assert await h.agent_of(held) == "a"
    old = await h.arrive("old", "presale", priority=10)
    h.tick(100_000)
    vip = await h.arrive("vip", "presale", priority=20)
    assert await h.queue("presale") == [vip, old]
    await h.status("a", "offline")  # the held conversation goes back to the front
    assert await h.queue("presale") == [held, vip, old]
    await h.status("a", "online")
    assert await h.agent_of(held) == "a"


@pytest.mark.parametrize(("text", "line", "col", "message"), [
    ("pools:\n  - id: p\nassignment:\n  policy: fastest\n", 4, 11, "Invalid enum value 'fastest'"),
    ("pools:\n  - id: p\nassignment:\n  weighted_load: {fraction: 2}\n", 4, 29, "expected 0 to 1"),
    ("pools:\n  - id: p\nassignment:\n  pools:\n    vipp: round_robin\n", 5, 5, "unknown pool 'vipp'"),
    ("pools:\n  - id: p\nassignment:\n  sticky_window: 10\n", 4, 3, "did you mean 'sticky_window_s'"),
    ("pools:\n  - id: p\nassignment:\n  aging_s_per_priority: -1\n", 4, 25, "expected 0 or more"),
])
def test_bad_assignment_settings_are_positioned(text: str, line: int, col: int, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_settings(text, "kefu.yaml")
    first = str(exc.value).splitlines()[0]
    assert first.startswith(f"kefu.yaml:{line}:{col}: "), first
    assert message in first


async def test_scans_follow_skill_and_cap_changes(harness: Open) -> None:
    """A scan reads levels from the per-skill copies and loads from the slots hash; both must
    follow a config change of skills and a live cap change, or the choice would use stale data."""
    agents = [{"id": "a", "skills": {"shoes": 5}}, {"id": "b", "skills": {"shoes": 1}}]
    h = await harness(agents)
    await h.set_cap("a", 3)
    first = await h.arrive("u1", "presale", skills=("shoes",), min_level=2)
    assert await h.agent_of(first) == "a"
    assert (await h.record(first))["candidates"][0] == {
        "agent": "a", "eligible": True, "reason": "chosen", "load": 0, "cap": 3}
    # The config takes shoes away from a and raises b: after the sync, b is the only one qualified.
    h.settings = settings_for([{"id": "a", "skills": {"bags": 3}}, {"id": "b", "skills": {"shoes": 4}}],
                              ["presale"])
    await h.restart()
    await h.status("b", "away")
    second = await h.arrive("u2", "presale", skills=("shoes",), min_level=2)
    assert await h.agent_of(second) is None and await h.queue("presale") == [second]
    assert reasons(await h.record(second)) == {"a": "missing_skill:shoes", "b": "away"}
    await h.status("b", "online")
    assert await h.agent_of(second) == "b"
