"""Two shops on one 3+3 Cluster: each shop's routing keys live on the master its name hashes to,
here two different masters, and each shop's customers reach only its own agents."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import redis
from helpers.clients import agent, customer, msg_id
from helpers.procs import Serve
from helpers.redis_cluster import RedisCluster

from router.store.keys import Keys

CONFIG = """
redis:
  namespace: {shop}
pools:
  - id: presale
agents:
  - id: {shop}-agent
    token: {shop}-token-123456
    pools: [presale]
    max_chats: 100
"""


def _two_shops_apart(cluster: RedisCluster) -> tuple[str, str]:
    """The first two shop names whose routing slots sit on different masters."""
    names = [f"shop{i}" for i in range(20)]
    first = names[0]
    home = cluster.master_of(cluster.slot(Keys(first).conv_index))
    for name in names[1:]:
        if cluster.master_of(cluster.slot(Keys(name).conv_index)) != home:
            return first, name
    raise AssertionError("20 shop names all hash to one master")


async def test_two_shops_on_different_masters(redis_cluster: RedisCluster, tmp_path: Path) -> None:
    shops = _two_shops_apart(redis_cluster)
    procs = {}
    for shop in shops:
        cfg = tmp_path / f"{shop}.yaml"
        cfg.write_text(CONFIG.format(shop=shop))
        procs[shop] = Serve(cfg, redis_cluster.url, tmp_path, extra=["--redis-cluster"])
    try:
        for p in procs.values():
            p.wait_ready(120)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = {s: await agent(http, procs[s].base, f"{s}-token-123456") for s in shops}
            socks = {s: [(await customer(http, procs[s].base))[0] for _ in range(60)] for s in shops}
            await asyncio.gather(*(c.send({"type": "message", "text": f"hi {s}", "client_msg_id": msg_id()})
                                   for s in shops for c in socks[s]))
            for s in shops:
                got = await agents[s].expect_count(lambda f: f["type"] == "assigned", 60, timeout=60)
                texts = {m["text"] for f in got for m in f["messages"]}
                assert texts == {f"hi {s}"}, texts  # nothing of the other shop
            for sock in [*agents.values(), *(c for s in shops for c in socks[s])]:
                await sock.close()
        # Where the data is: each shop's conversation index is on its own master, held there
        # (a plain client on that master reads it without a MOVED).
        homes = {}
        for s in shops:
            key = Keys(s).conv_index
            homes[s] = redis_cluster.master_of(redis_cluster.slot(key))
            direct = redis.Redis(port=homes[s])
            try:
                assert direct.zcard(key) == 60
            finally:
                direct.close()
        assert homes[shops[0]] != homes[shops[1]], homes
    finally:
        for p in procs.values():
            p.stop()
