"""Three router processes, 2 agents capped at 2, 50 customers at once: caps hold, the rest wait,
and a close hands the next waiting conversation over at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from helpers.clients import agent, customer, msg_id
from helpers.procs import Serve
from helpers.redis_cluster import Backend

CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 2
  - id: bob
    token: bob-token-123456
    pools: [presale]
    max_chats: 2
"""


async def test_caps_hold_across_three_processes(backend: Backend, tmp_path: Path) -> None:
    """On one Redis and on a 3+3 Cluster."""
    redis_url = backend.url
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    procs = [Serve(cfg, redis_url, tmp_path, extra=backend.serve_args) for _ in range(3)]
    for p in procs:
        p.wait_ready()
    r = backend.client()
    max_seen = {"alice": 0, "bob": 0}
    watching = True

    async def watch() -> None:
        while watching:
            for a in max_seen:
                max_seen[a] = max(max_seen[a], await r.scard(f"{{rt:kefu}}:agent:{a}:convs"))
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        async with aiohttp.ClientSession() as http:
            alice = await agent(http, procs[0].base, "alice-token-1234")
            bob = await agent(http, procs[1].base, "bob-token-123456")
            socks = [(await customer(http, procs[i % 3].base))[0] for i in range(50)]
            await asyncio.gather(*(s.send({"type": "message", "text": "在吗？", "client_msg_id": msg_id()}) for s in socks))
            await asyncio.gather(*(s.expect(lambda f: f["type"] == "ack") for s in socks))

            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                queued = await r.zcard("{rt:kefu}:pool:presale:queue")
                if queued == 46 and len(alice.of("assigned")) + len(bob.of("assigned")) == 4:
                    break
                await asyncio.sleep(0.05)
            assert await r.zcard("{rt:kefu}:pool:presale:queue") == 46
            assert await r.scard("{rt:kefu}:agent:alice:convs") == 2
            assert await r.scard("{rt:kefu}:agent:bob:convs") == 2
            assert len(alice.of("assigned")) == 2 and len(bob.of("assigned")) == 2
            # Every customer still waiting was told their place (the frames may trail the state).
            deadline = time.monotonic() + 10
            while sum(1 for s in socks if s.of("queue")) < 46 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert sum(1 for s in socks if s.of("queue")) == 46

            # Alice closes one: the head of the queue is hers at once, with no polling interval.
            head = (await r.zrange("{rt:kefu}:pool:presale:queue", 0, 0))[0]
            first = alice.of("assigned")[0]["conversation"]["id"]
            t0 = time.monotonic()
            await alice.send({"type": "close", "conversation_id": first})
            nxt = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == head, timeout=5)
            elapsed = time.monotonic() - t0
            assert nxt["conversation"]["agent"] == "alice"
            assert elapsed < 1.0, f"handover took {elapsed:.3f}s"
            assert await r.zcard("{rt:kefu}:pool:presale:queue") == 45
            for s in [alice, bob, *socks]:
                await s.close()
    finally:
        watching = False
        await watcher
        for p in procs:
            p.stop()
        await r.aclose()
    assert max_seen == {"alice": 2, "bob": 2}
