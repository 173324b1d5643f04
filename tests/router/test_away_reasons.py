"""Away with a reason (issue 19): the status script records why, counts the time per reason, and
no chat reaches an agent on a break, even while hundreds arrive as agents go."""

from __future__ import annotations

import asyncio
import time

import pytest
from assign_harness import Harness

from kefu_common.errors import ConfigErrors, ProtocolError
from router.config.settings import parse_settings
from router.models import ConversationState
from router.ops.presence import requested_status
from router.store.calls.agents import Status

AGENTS = 20
CONFIG = "pools:\n  - id: p\nagents:\n" + "".join(
    f"  - id: a{i}\n    token: token-a{i}-xxxxxxxx\n    pools: [p]\n    max_chats: 40\n" for i in range(AGENTS))


async def test_hundreds_of_chats_arriving_as_agents_go_on_break_never_reach_them(redis_url: str) -> None:
    h = await Harness(redis_url, parse_settings(CONFIG, "<test>")).open()
    try:
        for i in range(AGENTS):
            await h.status(f"a{i}", "online")
        leaving = [f"a{i}" for i in range(AGENTS) if i % 2 == 0]
        held: dict[str, set[str]] = {}

        async def go_on_break(aid: str, after: float) -> None:
            await asyncio.sleep(after)
            await h.store.run(Status(aid, "away", h.tick(0.001), "agent_set", "break", "2027-01-15"))
            # From this moment no script may give them a chat: what they hold now is all they keep.
            held[aid] = set(await h.store.agents.conversation_ids(aid))

        async def arrivals(start: int) -> list[str]:
            return [await h.arrive(f"u{start}-{n}", "p") for n in range(100)]

        results = await asyncio.gather(
            *(arrivals(k) for k in range(4)),
            *(go_on_break(aid, 0.02 * n) for n, aid in enumerate(leaving)))
        cids = [cid for batch in results[:4] if isinstance(batch, list) for cid in batch]
        assert len(set(cids)) == 400

        for aid in leaving:
            assert set(await h.store.agents.conversation_ids(aid)) == held[aid], aid
            agent = await h.store.agents.get(aid)
            assert agent is not None and agent.status.value == "away" and agent.away_reason == "break"
        staying = [f"a{i}" for i in range(AGENTS) if i % 2 == 1]
        mine = {aid: set(await h.store.agents.conversation_ids(aid)) for aid in staying + leaving}
        owned = [c for s in mine.values() for c in s]
        assert len(owned) == len(set(owned)), "a chat with two agents"
        # Every chat is with exactly one agent or waiting: 10 online agents x 40 hold them all.
        convs = await h.store.conversations.many(cids)
        assert all(c.state in (ConversationState.ASSIGNED, ConversationState.QUEUED) for c in convs)
        assert {c.id for c in convs if c.state is ConversationState.ASSIGNED} == set(owned)
        assert sum(len(mine[a]) for a in leaving) < 400 and any(mine[a] for a in staying)
    finally:
        await h.close()


async def test_time_away_is_counted_per_reason_and_the_reason_clears(redis_url: str) -> None:
    h = await Harness(redis_url, parse_settings(CONFIG, "<test>")).open()
    try:
        t0 = time.time() - 600
        day = time.strftime("%Y-%m-%d", time.gmtime(t0 + 590))
        await h.store.run(Status("a1", "online", t0, "x", "", day))
        await h.store.run(Status("a1", "away", t0 + 10, "x", "break", day))
        await h.store.run(Status("a1", "away", t0 + 130, "x", "training", day))  # 120 s of break
        await h.store.run(Status("a1", "online", t0 + 430, "x", "", day))  # 300 s of training
        await h.store.run(Status("a1", "away", t0 + 500, "x", "", day))
        await h.store.run(Status("a1", "offline", t0 + 590, "x", "", day))  # 90 s away, no reason
        agent = await h.store.agents.get("a1")
        assert agent is not None and agent.away_reason == ""
        assert agent.away_today == {"break": 120.0, "training": 300.0, "away": 90.0}
        await h.store.run(Status("a1", "away", time.time() - 5, "x", "break", day))
        agent = await h.store.agents.get("a1")
        assert agent is not None and agent.away_reason == "break"
        assert 124 <= agent.away_today["break"] <= 127  # the running span counts as it goes
    finally:
        await h.close()


def test_a_status_frame_names_a_known_reason_and_only_with_away() -> None:
    ops = parse_settings(CONFIG + "ops:\n  away_reasons:\n    - {id: meeting, zh: 开会, en: Meeting}\n").ops
    assert requested_status({"status": "away", "reason": "meeting"}, ops) == ("away", "meeting")
    assert requested_status({"status": "online"}, ops) == ("online", "")
    for bad in ({"status": "online", "reason": "break"}, {"status": "away", "reason": "lunch"},
                {"status": "away", "reason": 3}, {"status": "asleep"}):
        with pytest.raises(ProtocolError):
            requested_status(bad, ops)


def test_bad_away_reasons_are_named_with_their_place() -> None:
    bad = CONFIG + """ops:
  away_reasons:
    - {id: break, zh: 休息, en: Break}
    - {id: Lunch Time, zh: 午饭, en: Lunch}
    - {id: meeting, zh: "", en: Meeting}
    - {id: meeting, zh: 开会, en: Meeting}
"""
    with pytest.raises(ConfigErrors) as exc:
        parse_settings(bad, "kefu.yaml")
    text = str(exc.value)
    n = CONFIG.count("\n")
    assert f"kefu.yaml:{n + 3}:12: away reason 'break' is built in" in text
    assert f"kefu.yaml:{n + 4}:12: away reason id 'Lunch Time' must be" in text
    assert f"kefu.yaml:{n + 5}:25: ops.away_reasons.zh: expected a label" in text
    assert f"kefu.yaml:{n + 6}:12: away reason 'meeting' is listed twice" in text
