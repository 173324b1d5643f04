"""Partitioned streams on a 3+3 Cluster: `redis.partitions: 3` puts each partition of the inbound
and outbound streams on its own master, every process consumes every partition, and each
conversation's lines reach its agent in the order the customer sent them, under hundreds of
customers writing at once through two processes; replies go out through every partition."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from helpers.clients import Frame, Socket, agent, customer, msg_id
from helpers.procs import Serve
from helpers.redis_cluster import RedisCluster

from router.store.keys import Keys

PARTITIONS = 3
CUSTOMERS = 240
LINES = 6
AGENTS = ("alice", "bob", "carol")
CONFIG = f"redis:\n  partitions: {PARTITIONS}\npools:\n  - id: presale\nagents:\n" + "".join(
    f"  - id: {a}\n    token: {a}-token-123456\n    pools: [presale]\n    max_chats: 100\n" for a in AGENTS)


def customer_lines(sockets: list[Socket]) -> dict[str, list[str]]:
    """Per conversation, the customer lines agents were shown, in the order they were shown."""
    out: dict[str, list[str]] = {}
    for sock in sockets:
        for f in sock.frames:
            if f["type"] == "assigned":
                out.setdefault(f["conversation"]["id"], []).extend(
                    m["text"] for m in f["messages"] if m.get("from") == "customer")
            elif f["type"] == "message" and f["message"].get("from") == "customer":
                out.setdefault(f["conversation_id"], []).append(f["message"]["text"])
    return out


async def test_partitions_spread_and_keep_each_conversation_in_order(redis_cluster: RedisCluster,
                                                                      tmp_path: Path) -> None:
    keys = [Keys("kefu").partition(p) for p in range(PARTITIONS)]
    for name in ("inbound", "outbound"):
        masters = {redis_cluster.master_of(redis_cluster.slot(getattr(k, name))) for k in keys}
        assert len(masters) == PARTITIONS, f"{name} partitions on {masters}"
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    procs = [Serve(cfg, redis_cluster.url, tmp_path, extra=["--redis-cluster"]) for _ in range(2)]
    try:
        for p in procs:
            p.wait_ready(120)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            agents = [await agent(http, procs[i % 2].base, f"{a}-token-123456") for i, a in enumerate(AGENTS)]
            socks = [(await customer(http, procs[i % 2].base))[0] for i in range(CUSTOMERS)]

            async def write(i: int, sock: Socket) -> None:
                # Each line right after the previous one's ack, as a page sends them: the previous
                # line is then usually still in the stream, and either process may read the next.
                # A line refused under load ('unavailable') is sent again, as a page does.
                for n in range(LINES):
                    cmid = msg_id()
                    for _ in range(20):
                        start = len(sock.frames)
                        await sock.send({"type": "message", "text": f"c{i} line {n}", "client_msg_id": cmid})
                        ack: Frame = await sock.expect(
                            lambda f, c=cmid: c in (f.get("client_msg_id"), f.get("ref")),  # type: ignore[misc]
                            timeout=60, start=start)
                        if ack["type"] == "ack":
                            break
                        assert ack.get("code") == "unavailable", ack
                        await asyncio.sleep(float(ack.get("retry_after") or 1))
                    else:
                        raise AssertionError(f"c{i} line {n} refused 20 times")

            await asyncio.gather(*(write(i, s) for i, s in enumerate(socks)))
            for _ in range(600):
                if sum(len(v) for v in customer_lines(agents).values()) >= CUSTOMERS * LINES:
                    break
                await asyncio.sleep(0.2)
            seen = customer_lines(agents)
            assert len(seen) == CUSTOMERS and sum(len(v) for v in seen.values()) == CUSTOMERS * LINES
            for lines in seen.values():
                who = lines[0].split()[0]
                assert lines == [f"{who} line {n}" for n in range(LINES)], lines

            # Replies go out through all three outbound partitions and reach every customer.
            for sock in agents:
                for cid in {f["conversation"]["id"] for f in sock.of("assigned")}:
                    await sock.send({"type": "reply", "conversation_id": cid, "text": f"re {cid}",
                                     "client_msg_id": msg_id()})
            for sock in socks:
                await sock.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "agent", timeout=60)

            # Every process runs a route worker and a sender for every partition.
            for p in procs:
                async with http.get(f"{p.base}/metrics") as r:
                    text = await r.text()
                for n in range(PARTITIONS):
                    for service in ("route worker", "sender"):
                        assert f'kefu_service_up{{service="{service} {n}"}} 1.0' in text, (service, n)
                    for stream in ("inbound", "outbound"):  # pending and lag per partition
                        for gauge in ("kefu_stream_pending", "kefu_stream_lag"):
                            assert f'{gauge}{{partition="{n}",stream="{stream}"}}' in text, (gauge, n, stream)

        for s in [*agents, *socks]:
            await s.close()
    finally:
        for p in procs:
            p.stop()
