"""Waiting chats wake once (issue 19): 300 parked chats whose time comes while their customers
write, all at once, each wake once (one `waiting` false frame), their first-response clock
resumes once with the time it had left, and they stay with their agents on their load."""

from __future__ import annotations

import asyncio
import json

from assign_harness import Harness

from router.config.settings import parse_settings
from router.store.calls.background import SlaFire
from router.store.calls.routing import Wait

AGENTS = 15
CHATS = 300
CONFIG = "pools:\n  - id: p\nagents:\n" + "".join(
    f"  - id: a{i}\n    token: token-a{i}-xxxxxxxx\n    pools: [p]\n    max_chats: 20\n" for i in range(AGENTS))


async def test_parked_chats_woken_by_their_time_and_their_customers_at_once_wake_once(redis_url: str) -> None:
    h = await Harness(redis_url, parse_settings(CONFIG, "<test>")).open()
    try:
        await h.store.ops.replace_sla_profiles({"quick": json.dumps({"first_response": 60, "warn_at": 0.5})})
        for i in range(AGENTS):
            await h.status(f"a{i}", "online")
        users = [f"u{n}" for n in range(CHATS)]
        cids = [await h.arrive(u, "p", sla="quick") for u in users]
        convs = {c.id: c for c in await h.store.conversations.many(cids)}
        assert all(c.agent for c in convs.values())

        parked_at = h.tick(10)  # 10 s of the 60 s first-response target gone
        until = parked_at + 30
        for cid in cids:
            assert await h.store.run(Wait(cid, str(convs[cid].agent), parked_at, until, True)) == "waiting"
        k = h.store.keys
        r = h.store.client
        for cid in cids:
            assert await r.zscore(k.timers_due, f"{cid}:first") is None  # paused

        # Their time comes just as half the customers write: both wake them, concurrently.
        now = h.tick(40)

        async def fire(cid: str) -> str:
            return (await h.store.run(SlaFire(f"{cid}:wake", "wake", cid, 0, now))).outcome

        outcomes = await asyncio.gather(*(fire(cid) for cid in cids),
                                        *(h.arrive(u, "p", sla="quick") for u in users[::2]))
        woken_by_timer = outcomes[:CHATS].count("woken")
        assert 150 <= woken_by_timer <= CHATS

        for cid in cids:
            c = await h.store.conversations.get(cid)
            assert c is not None and not c.waiting and c.state.value == "assigned"
            assert c.agent == convs[cid].agent
            # About 50 s were left when parked (each arrived a tick apart), now from when it woke.
            due = c.sla["first_response_due"]
            assert 49.5 <= due - now <= 50.5, (cid, due - now)
            assert await r.zscore(k.timers_due, f"{cid}:first") == due
            assert await r.zscore(k.timers_due, f"{cid}:wake") is None
        woke: dict[str, int] = {}
        for i in range(AGENTS):
            for _, f in await r.xrange(k.agent_events(f"a{i}")):
                frame = json.loads(f["f"])
                if frame["type"] == "waiting" and frame["waiting"] is False:
                    woke[frame["conversation_id"]] = woke.get(frame["conversation_id"], 0) + 1
        assert woke == {cid: 1 for cid in cids}
        loads = [a.load for a in await h.store.agents.all()]
        assert sum(loads) == CHATS
    finally:
        await h.close()
