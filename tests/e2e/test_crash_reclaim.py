"""A router killed with SIGKILL mid-batch loses nothing: another reclaims the batch, and every
message reaches the agent exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
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
    max_chats: 50
worker:
  batch_size: 200
  claim_idle_ms: 1000
  debug_delay_ms: {delay}
"""


async def test_sigkill_mid_batch_reclaimed_exactly_once(backend: Backend, tmp_path: Path) -> None:
    """On one Redis and on a 3+3 Cluster."""
    redis_url = backend.url
    slow = tmp_path / "slow.yaml"
    slow.write_text(CONFIG.format(delay=15))  # 200 messages x 15 ms: a 3 s window to kill in
    fast = tmp_path / "fast.yaml"
    fast.write_text(CONFIG.format(delay=0))
    r = backend.client()

    # The survivor holds the agent socket but does not route until the victim has the batch.
    victim = Serve(slow, redis_url, tmp_path, extra=backend.serve_args)
    victim.wait_ready()
    async with aiohttp.ClientSession() as http:
        alice = await agent(http, victim.base, "alice-token-1234")
        sent: list[str] = []
        customers = [(await customer(http, victim.base))[0] for _ in range(20)]
        for i in range(200):
            sock = customers[i % 20]
            await sock.send({"type": "message", "text": f"msg {i}", "client_msg_id": msg_id()})
        for sock in customers:
            sent += [f["message_id"] for f in await sock.expect_count(lambda f: f["type"] == "ack", 10)]
        assert len(set(sent)) == 200

        # Wait until the victim has read the batch and is part-way through it, then kill it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pending = await r.xpending("{in:kefu}:stream", "routers")
            if pending["pending"] >= 100:
                break
            await asyncio.sleep(0.02)
        assert pending["pending"] >= 100, pending
        await alice.close()
        victim.kill()
        left = (await r.xpending("{in:kefu}:stream", "routers"))["pending"]
        assert left > 0, "the victim finished before the kill; nothing to reclaim"

        survivor = Serve(fast, redis_url, tmp_path, extra=backend.serve_args)
        survivor.wait_ready()
        alice = await agent(http, survivor.base, "alice-token-1234")
        seen: Counter[str] = Counter()

        def count() -> int:
            seen.clear()
            for f in alice.frames:
                if f["type"] == "assigned":
                    seen.update(m["id"] for m in f["messages"])
                elif f["type"] == "message":
                    seen[f["message"]["id"]] += 1
            return len(seen)

        deadline = time.monotonic() + 30
        while count() < 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything duplicated would arrive now
        count()
        assert set(seen) == set(sent), f"missing {len(set(sent) - set(seen))}"
        assert max(seen.values()) == 1, [m for m, n in seen.items() if n > 1][:5]
        assert (await r.xpending("{in:kefu}:stream", "routers"))["pending"] == 0
        # Each message is in its conversation's transcript exactly once.
        convs = await r.smembers("{rt:kefu}:agent:alice:convs")
        total = sum([await r.xlen(f"{{t:kefu:{c}}}:log") for c in convs])
        assert total == 200
        await alice.close()
        for sock in customers:
            await sock.close()
        survivor.stop()
    await r.aclose()
