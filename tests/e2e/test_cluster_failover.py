"""The failover drill: `kill -9` the master that owns the shop's routing slot while customers
write. Every message a customer was told was accepted reaches an agent exactly once, and the
longest gap in deliveries is measured (printed; docs/operations.md records it)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path

import aiohttp
from helpers.clients import Socket, agent, customer, msg_id
from helpers.procs import Serve
from helpers.redis_cluster import RedisCluster

from router.store.keys import Keys

AGENTS = ("alice", "bob", "carol", "dave")
CUSTOMERS = 200
CONFIG = "redis:\n  min_replicas_ack: 1\n  replica_ack_timeout_ms: 2000\npools:\n  - id: presale\nagents:\n" + "".join(
    f"  - id: {a}\n    token: {a}-token-123456\n    pools: [presale]\n    max_chats: 60\n" for a in AGENTS)


def _delivered(agents: list[Socket]) -> tuple[Counter[str], list[float]]:
    """Each customer message id an agent was shown, with how often; and when frames came."""
    seen: Counter[str] = Counter()
    for sock in agents:
        for f in sock.frames:
            if f["type"] == "assigned":
                seen.update(m["id"] for m in f["messages"] if m.get("from") == "customer")
            elif f["type"] == "message" and f["message"].get("from") == "customer":
                seen[f["message"]["id"]] += 1
    return seen, []


async def test_kill_routing_master_mid_load(redis_cluster: RedisCluster, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    routing_slot = redis_cluster.slot(Keys("kefu").conv_index)
    victim = redis_cluster.master_of(routing_slot)
    seeds = [u for u in redis_cluster.urls() if not u.endswith(f":{victim}/0")][:2]
    procs = [Serve(cfg, url, tmp_path, extra=["--redis-cluster"]) for url in seeds]
    accepted: set[str] = set()
    arrivals: list[float] = []  # when each agent frame carrying customer text came
    dropped: list[str] = []
    try:
        for p in procs:
            p.wait_ready(120)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = [await agent(http, procs[i % 2].base, f"{a}-token-123456") for i, a in enumerate(AGENTS)]
            socks = [(await customer(http, procs[i % 2].base))[0] for i in range(CUSTOMERS)]
            stop = asyncio.Event()

            async def write(sock: Socket) -> None:
                n = 0
                while not stop.is_set():
                    cmid = msg_id()
                    start = len(sock.frames)
                    try:
                        await sock.send({"type": "message", "text": f"第{n}条", "client_msg_id": cmid})
                    except ConnectionError:
                        dropped.append(cmid)  # the socket closed under us: this customer is gone
                        return
                    try:
                        ack = await sock.expect(lambda f, c=cmid: c in (f.get("client_msg_id"), f.get("ref")),  # type: ignore[misc]
                                                timeout=15, start=start)
                    except AssertionError:
                        continue  # no answer: not accepted, and the customer would send again
                    if ack["type"] == "ack":
                        accepted.add(ack["message_id"])
                    n += 1
                    await asyncio.sleep(0.5)

            async def watch() -> None:
                counts = [0] * len(agents)
                while not stop.is_set():
                    for i, sock in enumerate(agents):
                        if len(sock.frames) != counts[i]:
                            counts[i] = len(sock.frames)
                            arrivals.append(time.monotonic())
                    await asyncio.sleep(0.01)

            writers = [asyncio.create_task(write(s)) for s in socks]
            watcher = asyncio.create_task(watch())
            await asyncio.sleep(4)
            killed_at = time.monotonic()
            redis_cluster.kill(victim)  # kill -9: no shutdown, no save
            await asyncio.sleep(8)
            assert redis_cluster.master_of(routing_slot) != victim, "no replica took the routing slot"
            # The promoted replica has no replica of its own, so WAIT refuses until one is back, as
            # an operator would bring it: the old master, restarted, rejoins as that replica.
            redis_cluster.restart(victim)
            await asyncio.sleep(8)
            stop.set()
            await asyncio.gather(*writers)
            await watcher

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                seen, _ = _delivered(agents)
                if accepted <= set(seen):
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1)  # anything duplicated would arrive now
            seen, _ = _delivered(agents)
            missing = accepted - set(seen)
            assert not missing, f"{len(missing)} of {len(accepted)} accepted messages never reached an agent"
            twice = [m for m, n in seen.items() if n > 1]
            assert not twice, f"{len(twice)} messages reached an agent twice: {twice[:5]}"
            around = [t for t in arrivals if t > killed_at - 2]
            gaps = [b - a for a, b in itertools.pairwise(around)]
            print(f"\nfailover drill: {len(accepted)} accepted messages, each delivered once; "
                  f"longest gap in deliveries after the kill: {max(gaps, default=0):.2f} s; "
                  f"customer sockets closed under load: {len(dropped)}")
            for s in [*agents, *socks]:
                await s.close()
    finally:
        for p in procs:
            p.stop()
