"""The fallback ladder under random arrivals, widenings, status and cap changes, transfers and
closes, run through the real scripts: a conversation offered to several pools is never both
queued and assigned, never lost between, and leaves every queue together; caps hold."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator

import pytest
from assign_harness import Harness, settings_for

from router.models import new_id

POOLS = ["a", "b", "c"]
AGENTS = [
    {"id": "x", "pools": ["a"], "cap": 2},
    {"id": "y", "pools": ["b"], "cap": 1, "skills": {"s": 2}},
    {"id": "z", "pools": ["b", "c"], "cap": 2, "skills": {"s": 1}},
]
LADDER = [{"after_s": 5, "pool": "b", "min_level": None}, {"after_s": 10, "pool": None, "min_level": 1}]
SEQUENCES, STEPS = 25, 50


@pytest.fixture
async def harness(routing_redis_url: str) -> AsyncIterator[Harness]:
    h = await Harness(routing_redis_url, settings_for(AGENTS, POOLS)).open()
    try:
        yield h
    finally:
        await h.close()


async def arrive(h: Harness, rnd: random.Random) -> str:
    pool = rnd.choice(["a", "c"])
    skills = ["s"] if rnd.random() < 0.4 else []
    level = rnd.randint(1, 3)
    mid, now = new_id("m"), h.tick(0.01)
    user = new_id("u")
    res = await h.store.call("resolve", [mid, f"webchat:shop:{user}", new_id("cu"), new_id("c"), now, 600,
                                         "webchat", "shop", user, ""])
    cid = str(res[2])
    decision = {"pool": pool, "skills": skills, "min_level": level, "fallback": LADDER, "sla_profile": None}
    out = await h.store.call("route", [mid, cid, now, json.dumps({"id": mid, "text": "hi"}), pool, 10,
                                       json.dumps(skills), level, "0", json.dumps(decision), 3600])
    assert out[0] == "ok", out
    return cid


async def check(h: Harness, cids: list[str]) -> None:
    k, r = h.store.keys, h.store.client
    queues = {p: set(await r.zrange(k.pool_queue(p), 0, -1)) for p in POOLS}
    held = {a["id"]: set(await r.smembers(k.agent_convs(a["id"]))) for a in AGENTS}
    for a in AGENTS:
        cap = int(await r.hget(k.agent(a["id"]), "cap"))
        assert len(held[a["id"]]) <= cap, f"{a['id']} over cap"
    for cid in cids:
        c = await r.hgetall(k.conv(cid))
        in_queues = {p for p, q in queues.items() if cid in q}
        holders = {a for a, convs in held.items() if cid in convs}
        if c["state"] == "queued":
            offered = set(json.loads(c.get("offered") or "[]"))
            assert in_queues == {c["pool"], *offered}, (cid, c, in_queues)
            assert not holders
        elif c["state"] == "assigned":
            assert not in_queues, (cid, "assigned and queued", in_queues)
            assert holders == {c["agent"]}
            assert "offered" not in c
        else:
            assert c["state"] == "closed" and not in_queues and not holders


async def test_offers_to_several_pools_keep_every_invariant(harness: Harness) -> None:
    h = harness
    rnd = random.Random(20261124)
    widened = 0
    for _ in range(SEQUENCES):
        await h.store.client.flushdb()
        await h.store.sync_config(h.settings)
        cids: list[str] = []
        for a in AGENTS:
            await h.status(a["id"], "online")
        for _ in range(STEPS):
            op = rnd.random()
            open_ = [c for c in cids if await h.store.client.hget(h.store.keys.conv(c), "state") != "closed"]
            if op < 0.35 or not open_:
                cids.append(await arrive(h, rnd))
            elif op < 0.6:
                cid, n = rnd.choice(open_), rnd.randint(1, 2)
                res = await h.store.call("sla_fire", [f"{cid}:fb:{n}", "fallback", cid, n, h.tick(11)])
                widened += res[0] == "widened"
            elif op < 0.72:
                await h.status(rnd.choice(AGENTS)["id"], rnd.choice(["online", "online", "away", "offline"]))
            elif op < 0.82:
                aid = rnd.choice(AGENTS)["id"]  # a cap below the load keeps the chats; not tested here
                await h.set_cap(aid, rnd.randint(await h.load(aid), 3))
            elif op < 0.9:
                target = rnd.choice([("pool", p) for p in POOLS] + [("agent", a["id"]) for a in AGENTS])
                await h.transfer(rnd.choice(open_), *target)
            else:
                await h.close_conv(rnd.choice(open_))
            await check(h, cids)
    assert widened > 20  # the ladder really ran, not only the other operations
