"""What is pushed live reaches every process (issue 19), on one Redis and on a 3+3 Cluster (shard
channels): an agent's status set on one process shows on their console on another and to a
supervisor there; widgets open on every process hear the shop's availability change once; a
supervisor on one process follows a conversation routed and answered on another."""

from __future__ import annotations

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
    name: Alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 5
  - id: sue
    name: Sue
    token: sue-token-123456
    role: supervisor
    pools: [presale]
    max_chats: 0
rate_limits:
  enabled: false
"""
PAGES = 30


async def test_status_availability_and_watch_cross_processes(backend: Backend, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(CONFIG)
    procs = [Serve(cfg, backend.url, tmp_path, extra=backend.serve_args) for _ in range(2)]
    for p in procs:
        p.wait_ready()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            desk = await agent(http, procs[0].base, "alice-token-1234")
            laptop = await agent(http, procs[1].base, "alice-token-1234")
            sue = await agent(http, procs[1].base, "sue-token-123456")
            pages = [(await customer(http, procs[i % 2].base))[0] for i in range(PAGES)]
            for page in pages:
                await page.expect(lambda f: f["type"] == "availability")
            assert {p.of("availability")[0]["availability"] for p in pages} == {"online"}

            await desk.send({"type": "status", "status": "away", "reason": "break"})
            await laptop.expect(lambda f: f["type"] == "status" and f["reason"] == "break", timeout=3)
            await sue.expect(lambda f: f["type"] == "agent_status" and f["agent"] == "alice"
                             and f["reason"] == "break", timeout=3)
            for page in pages:
                await page.expect(lambda f: f["type"] == "availability" and f["availability"] == "nobody", timeout=5)
            await laptop.send({"type": "status", "status": "online"})
            await desk.expect(lambda f: f["type"] == "status" and f["status"] == "online" and f.get("why"), timeout=3)
            for page in pages:
                await page.expect_count(lambda f: f["type"] == "availability" and f["availability"] == "online", 2,
                                        timeout=5)
            assert {tuple(f["availability"] for f in p.of("availability")) for p in pages} == \
                {("online", "nobody", "online")}

            # The customer writes on process 0, alice answers there; sue follows it from process 1.
            cust = pages[0]
            await cust.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
            cid = (await desk.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
            await sue.send({"type": "watch", "conversation_id": cid})
            await sue.expect(lambda f: f["type"] == "watched" and f["conversation_id"] == cid)
            for n in range(20):
                text = f"第{n}句"
                if n % 2:
                    await desk.send({"type": "reply", "conversation_id": cid, "text": text, "client_msg_id": msg_id()})
                else:
                    await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
                await sue.expect(lambda f, t=text: f["type"] == "watched"
                                 and any(m["text"] == t for m in f["messages"]), timeout=5)
            for s in [desk, laptop, sue, *pages]:
                await s.close()
    finally:
        for p in procs:
            p.stop()
