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

from router.store.keys import Keys

CONFIG = """{redis}
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
  # A drill of the stream path: every line goes through it, none is routed as it is taken in
  # (a new visitor's first line would be, and then each of their follow-ups).
  direct_follow_ups: false
"""


async def test_sigkill_mid_batch_reclaimed_exactly_once(backend: Backend, tmp_path: Path) -> None:
    """On one Redis (one stream), and on a 3+3 Cluster with the streams in 3 partitions."""
    redis_url = backend.url
    parts = 3 if backend.cluster else 1
    redis = f"redis:\n  partitions: {parts}" if parts > 1 else ""
    slow = tmp_path / "slow.yaml"
    # 60 ms a message: slower than the customers write even on a loaded machine, so the victim
    # falls behind and reads a batch of 100 or more to die in. At 15 ms it kept up with a writer
    # slowed by load (a clean-clone CI run at load 6) and never held 100 at once.
    slow.write_text(CONFIG.format(delay=60, redis=redis))
    fast = tmp_path / "fast.yaml"
    fast.write_text(CONFIG.format(delay=0, redis=redis))
    r = backend.client()
    streams = [Keys("kefu").partition(p).inbound for p in range(parts)]

    async def pending() -> int:
        return sum([(await r.xpending(s, "routers"))["pending"] for s in streams])

    # The survivor holds the agent socket but does not route until the victim has the batch.
    victim = Serve(slow, redis_url, tmp_path, extra=backend.serve_args)
    survivor: Serve | None = None
    try:
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
                if (read := await pending()) >= 100:
                    break
                await asyncio.sleep(0.02)
            assert read >= 100, read
            await alice.close()
            victim.kill()
            left = await pending()
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
            assert await pending() == 0
            # Each message is in its conversation's transcript exactly once.
            convs = await r.smembers("{rt:kefu}:agent:alice:convs")
            total = sum([await r.xlen(f"{{t:kefu:{c}}}:log") for c in convs])
            assert total == 200
            await alice.close()
            for sock in customers:
                await sock.close()
    finally:
        # A failed check must not leave the processes or the client's sockets to a later test.
        for proc in (victim, survivor):
            if proc is not None:
                proc.stop()
        await r.aclose()
