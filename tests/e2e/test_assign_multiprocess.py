"""Three router processes on one Redis, 100 web chat customers at once, agents with different caps,
one of them away: afterwards Redis shows every conversation in exactly one place, nobody over cap,
nothing for the away agent, first come first served, and a decision record for every choice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from helpers.clients import Socket, agent, customer, msg_id
from helpers.procs import Serve

CAPS = {"ann": 3, "ben": 5, "cat": 2, "dan": 4}
CONFIG = "pools:\n  - id: presale\nagents:\n" + "".join(
    f"  - id: {a}\n    token: {a}-token-123456\n    pools: [presale]\n    max_chats: {cap}\n"
    for a, cap in CAPS.items()
) + "assignment:\n  policy: least_loaded\n"
RT = "{rt:kefu}:"


async def redis_state(r: Any) -> tuple[dict[str, dict[str, str]], dict[str, set[str]], list[str]]:
    ids = await r.zrange(f"{RT}convs", 0, -1)
    convs = {cid: await r.hgetall(f"{RT}conv:{cid}") for cid in ids}
    held = {a: set(await r.smembers(f"{RT}agent:{a}:convs")) for a in CAPS}
    queue = await r.zrange(f"{RT}pool:presale:queue", 0, -1)
    return convs, held, queue


@pytest.mark.slow
async def test_hundred_customers_three_processes_invariants(redis_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    procs = [Serve(cfg, redis_url, tmp_path) for _ in range(3)]
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        for p in procs:
            p.wait_ready()
        # 104 sockets at once: more than aiohttp's default of 100 connections per session.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents: dict[str, Socket] = {}
            for i, a in enumerate(CAPS):
                agents[a] = await agent(http, procs[i % 3].base, f"{a}-token-123456")
            await agents["dan"].send({"type": "status", "status": "away"})
            deadline = time.monotonic() + 10
            while await r.hget(f"{RT}agent:dan", "status") != "away" and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            socks = [(await customer(http, procs[i % 3].base))[0] for i in range(100)]
            await asyncio.gather(*(s.send({"type": "message", "text": f"在吗 {i}", "client_msg_id": msg_id()})
                                   for i, s in enumerate(socks)))
            await asyncio.gather(*(s.expect(lambda f: f["type"] == "ack") for s in socks))

            slots = CAPS["ann"] + CAPS["ben"] + CAPS["cat"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                convs, held, queue = await redis_state(r)
                if len(convs) == 100 and len(queue) == 100 - slots:
                    break
                await asyncio.sleep(0.1)

            # Each working agent closes one: the head of the queue moves up at once, in order.
            head = (await r.zrange(f"{RT}pool:presale:queue", 0, 2))
            for a in ("ann", "ben", "cat"):
                first = (await agents[a].expect(lambda f: f["type"] == "assigned"))["conversation"]
                assert {"candidates", "chosen", "policy"} <= set(first["decision"]), first["decision"]
                assert first["decision"]["chosen"] == a
                async with http.get(f"{procs[2].base}/api/v1/conversations/{first['id']}",
                                    headers={"Authorization": f"Bearer {a}-token-123456"}) as resp:
                    shown = (await resp.json())["conversation"]["decision"]
                assert shown["chosen"] == a and shown["policy"] == "least_loaded"
                assert [c["reason"] for c in shown["candidates"] if c["agent"] == "dan"] == ["away"]
                await agents[a].send({"type": "close", "conversation_id": first["id"]})
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                convs, held, queue = await redis_state(r)
                if len(queue) == 100 - slots - 3:
                    break
                await asyncio.sleep(0.05)

            convs, held, queue = await redis_state(r)
            assert len(convs) == 100
            assert sum(c["state"] == "closed" for c in convs.values()) == 3
            assert len(queue) == 100 - slots - 3
            assert set(head) <= set().union(*held.values()), "the three longest waiting went first"
            for a, cap in CAPS.items():
                assert len(held[a]) <= cap
            assert held["dan"] == set(), "the away agent got work"
            assert {len(held[a]) for a in ("ann", "ben", "cat")} == {CAPS[a] for a in ("ann", "ben", "cat")}
            for cid, conv in convs.items():
                holders = [a for a, s in held.items() if cid in s]
                if conv["state"] == "queued":
                    assert holders == [] and cid in queue and not conv.get("agent")
                elif conv["state"] == "assigned":
                    assert holders == [conv["agent"]] and cid not in queue
                    assert '"chosen":"' + conv["agent"] + '"' in conv["assignment"]
                else:
                    assert conv["state"] == "closed" and holders == [] and cid not in queue
            # Equal priority: the queue is in arrival order.
            arrived = [float(convs[cid]["queued_at"]) for cid in queue]
            assert arrived == sorted(arrived)
            # Everyone still waiting was told their place.
            waiting_chats = {convs[cid]["chat"] for cid in queue}
            told = sum(1 for s in socks if s.of("queue"))
            assert told >= len(waiting_chats)
            for s in [*agents.values(), *socks]:
                await s.close()
    finally:
        for p in procs:
            p.stop()
        await r.aclose()
