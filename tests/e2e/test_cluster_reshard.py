"""Resharding under load: the shop's routing slot moves to another master while customers write.
The routers follow ASK and MOVED; every accepted message reaches an agent exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp
from helpers.clients import Socket, agent, customer, msg_id
from helpers.procs import Serve
from helpers.redis_cluster import RedisCluster

from router.store.keys import Keys

AGENTS = ("alice", "bob")
CONFIG = "pools:\n  - id: presale\nagents:\n" + "".join(
    f"  - id: {a}\n    token: {a}-token-123456\n    pools: [presale]\n    max_chats: 100\n" for a in AGENTS)


async def test_routing_slot_moves_mid_load(redis_cluster: RedisCluster, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    slot = redis_cluster.slot(Keys("kefu").conv_index)
    procs = [Serve(cfg, redis_cluster.url, tmp_path, extra=["--redis-cluster"]) for _ in range(2)]
    accepted: set[str] = set()
    try:
        for p in procs:
            p.wait_ready(120)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = [await agent(http, procs[i].base, f"{a}-token-123456") for i, a in enumerate(AGENTS)]
            socks = [(await customer(http, procs[i % 2].base))[0] for i in range(150)]
            stop = asyncio.Event()

            async def write(sock: Socket) -> None:
                n = 0
                while not stop.is_set():
                    cmid = msg_id()
                    start = len(sock.frames)
                    await sock.send({"type": "message", "text": f"第{n}条", "client_msg_id": cmid})
                    ack = await sock.expect(lambda f, c=cmid: c in (f.get("client_msg_id"), f.get("ref")),  # type: ignore[misc]
                                            timeout=20, start=start)
                    if ack["type"] == "ack":
                        accepted.add(ack["message_id"])
                    n += 1
                    await asyncio.sleep(0.5)

            writers = [asyncio.create_task(write(s)) for s in socks]
            await asyncio.sleep(4)
            before = redis_cluster.master_of(slot)
            target = next(p for p in redis_cluster.master_ports() if p != before)
            moved = await asyncio.to_thread(redis_cluster.move_slot, slot, target)
            assert moved > 100 and redis_cluster.master_of(slot) == target
            await asyncio.sleep(4)
            stop.set()
            await asyncio.gather(*writers)

            def delivered() -> Counter[str]:
                seen: Counter[str] = Counter()
                for sock in agents:
                    for f in sock.frames:
                        if f["type"] == "assigned":
                            seen.update(m["id"] for m in f["messages"] if m.get("from") == "customer")
                        elif f["type"] == "message" and f["message"].get("from") == "customer":
                            seen[f["message"]["id"]] += 1
                return seen

            for _ in range(300):
                if accepted <= set(delivered()):
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1)
            seen = delivered()
            assert accepted and not accepted - set(seen), f"{len(accepted - set(seen))} of {len(accepted)} lost"
            assert max(seen.values()) == 1, [m for m, n in seen.items() if n > 1][:5]
            for s in [*agents, *socks]:
                await s.close()
    finally:
        for p in procs:
            p.stop()
