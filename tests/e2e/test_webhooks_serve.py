"""Done-means for outbound webhooks, through real `kefu serve` processes: a receiver that fails at
first gets every event of a hundred conversations (five each: created, the customer's message,
assigned, the agent's reply, closed), signed, in order per conversation, with stable ids; even
across a `kill -9` of the router in the middle."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from helpers.clients import agent, customer, msg_id
from helpers.hook_receiver import receiver
from helpers.procs import Serve

CUSTOMERS = 100
EXPECTED = ["conversation.created", "message.created", "conversation.assigned", "message.created",
            "conversation.closed"]

CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 100
  - id: bob
    token: bob-token-12345
    pools: [presale]
    max_chats: 100
routing:
  default_pool: presale
worker:
  claim_idle_ms: 1000
webhooks:
  - id: erp
    url: {url}
    secret: {secret}
webhook_delivery:
  allow_private_networks: true
  base_delay_s: 0.1
  max_delay_s: 0.5
  max_attempts: 1000
"""


async def _serve(config: Path, redis_url: str, tmp_path: Path) -> Serve:
    serve = Serve(config, redis_url, tmp_path)
    await asyncio.to_thread(serve.wait_ready)
    return serve


async def _converse(http: aiohttp.ClientSession, base: str, n: int, first: int) -> list[str]:
    """n customers write; their agents answer each and close it. The conversation ids."""
    alice = await agent(http, base, "alice-token-1234")
    bob = await agent(http, base, "bob-token-12345")
    customers = [(await customer(http, base))[0] for _ in range(n)]
    for i, c in enumerate(customers):
        await c.send({"type": "message", "text": f"请问 {first + i} 号订单发货了吗", "client_msg_id": msg_id()})
    deadline = asyncio.get_running_loop().time() + 120
    while len(alice.of("assigned")) + len(bob.of("assigned")) < n:
        assert asyncio.get_running_loop().time() < deadline, "not every customer was assigned"
        await asyncio.sleep(0.1)
    cids = []
    for sock, token in ((alice, "alice-token-1234"), (bob, "bob-token-12345")):
        for f in sock.of("assigned"):
            cid = f["conversation"]["id"]
            cids.append(cid)
            await sock.send({"type": "reply", "conversation_id": cid, "text": "已发货", "client_msg_id": msg_id()})
        await sock.expect_count(lambda f: f["type"] == "delivery" and f["status"] == "sent", len(sock.of("assigned")),
                                timeout=120)
        for f in sock.of("assigned"):
            async with http.post(f"{base}/api/v1/conversations/{f['conversation']['id']}/close",
                                 headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status == 200, await r.text()
    for s in (alice, bob, *customers):
        await s.close()
    return cids


async def test_a_failing_receiver_gets_every_event_signed_with_stable_ids(redis_url: str, tmp_path: Path) -> None:
    # The receiver refuses its first 150 requests, then takes everything.
    async with receiver(fail_first=150) as rec:
        config = tmp_path / "kefu.yaml"
        config.write_text(CONFIG.format(url=rec.url, secret=rec.secret))
        serve = await _serve(config, redis_url, tmp_path)
        try:
            async with aiohttp.ClientSession() as http:
                first = await _converse(http, serve.base, CUSTOMERS // 2, 0)
                # Mid-delivery, the router dies without a word; a new one takes over.
                serve.kill()
                serve = await _serve(config, redis_url, tmp_path)
                second = await _converse(http, serve.base, CUSTOMERS // 2, CUSTOMERS // 2)
            cids = set(first + second)
            assert len(cids) == CUSTOMERS
            await rec.wait_for(lambda t: len({b["id"] for b in t}) >= 5 * CUSTOMERS, timeout=300)
        finally:
            serve.stop()
        assert all(r["signed"] for r in rec.requests), "an unsigned or badly signed request"
        # Stable ids: every request of one id carried the same body, retries included.
        bodies: dict[str, dict[str, Any]] = {}
        for r in rec.requests:
            assert bodies.setdefault(r["body"]["id"], r["body"]) == r["body"]
        assert len(bodies) == 5 * CUSTOMERS
        assert sum(1 for r in rec.requests if r["status"] != 200) == 150
        # Every conversation's events, each once (a delivery cut off by the kill may come twice,
        # with its id), in the order they happened.
        per: dict[str, list[str]] = {}
        seen: set[str] = set()
        for b in rec.taken:
            if b["id"] in seen:
                continue
            seen.add(b["id"])
            per.setdefault(b["data"]["conversation_id"], []).append(b["type"])
        assert set(per) == cids
        wrong = {cid: types for cid, types in per.items() if types != EXPECTED}
        assert not wrong, list(wrong.items())[:3]
