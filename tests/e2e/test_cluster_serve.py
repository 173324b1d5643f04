"""`kefu serve` on a real 3+3 Redis Cluster: it starts from any seed node, a customer's message
reaches an agent, and a plain client pointed at a Cluster node is refused in one line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
from helpers.clients import agent, customer, msg_id
from helpers.procs import Serve
from helpers.redis_cluster import RedisCluster

CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 100
  - id: bob
    token: bob-token-123456
    pools: [presale]
    max_chats: 100
"""


async def test_serve_from_every_seed_node(redis_cluster: RedisCluster, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    # A master and a replica as the seeds (`redis-cli --cluster create` makes the first three
    # masters): the client learns the rest from either.
    seeds = [redis_cluster.urls()[0], redis_cluster.urls()[4]]
    procs = [Serve(cfg, url, tmp_path, extra=["--redis-cluster"]) for url in seeds]
    try:
        for p in procs:
            p.wait_ready(120)
        # Every customer holds a socket: lift aiohttp's 100-connection default.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            alice = await agent(http, procs[0].base, "alice-token-1234")
            bob = await agent(http, procs[-1].base, "bob-token-123456")
            socks = [(await customer(http, procs[i % len(procs)].base))[0] for i in range(120)]
            await asyncio.gather(*(s.send({"type": "message", "text": "在吗？", "client_msg_id": msg_id()})
                                   for s in socks))
            await asyncio.gather(*(s.expect(lambda f: f["type"] == "ack") for s in socks))
            await alice.expect_count(lambda f: f["type"] == "assigned", 60, timeout=30)
            await bob.expect_count(lambda f: f["type"] == "assigned", 60, timeout=30)
            assigned = [f["conversation"]["id"] for f in alice.of("assigned") + bob.of("assigned")]
            assert len(assigned) == len(set(assigned)) == 120
            for s in [alice, bob, *socks]:
                await s.close()
    finally:
        for p in procs:
            p.stop()


def test_plain_client_on_a_cluster_node_is_refused(redis_cluster: RedisCluster, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    out = subprocess.run(
        [sys.executable, "-m", "router", "serve", "--config", str(cfg), "--redis-url", redis_cluster.url,
         "--port", "0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert out.returncode != 0
    lines = [ln for ln in out.stderr.splitlines() if "Cluster node" in ln]
    assert len(lines) == 1, out.stderr[-2000:]
    assert "set `redis: {cluster: true}`" in lines[0] and "--redis-cluster" in lines[0], lines[0]
