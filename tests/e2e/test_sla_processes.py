"""SLA timers with real `kefu serve` processes: the one that routed the conversations is killed
(-9) before anything is due; two others, started after, fire every timer exactly once.

The timers are due 10 s after routing: the routing phase (six customers, then the kill) must end
before then even on a loaded 2-core machine, and the two later processes' cold start takes most of
that time anyway. Their 1 s lease runs out while one of them works through its batch under load, so
the other claims the same timers again; sla_fire.lua lets only the first claimant act."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from helpers.clients import customer, msg_id
from helpers.procs import Serve

N = 6

CONFIG = """
pools:
  - id: presale
  - id: supervisors
agents:
  - {id: alice, token: alice-token-1234, pools: [presale]}
  - {id: sue, token: sue-token-12345, role: supervisor, pools: [supervisors]}
routing:
  rules: rules.yaml
sla:
  profiles: sla.yaml
  timer_max_sleep_s: 0.1
  timer_lease_s: 1
"""

RULES = """
default: {pool: presale, sla: complaint}
rules: []
"""

PROFILES = """
profiles:
  complaint:
    escalate: {after: 10s}
    follow_up: [{after: 10.5s, task: satisfaction_call}]
"""


async def test_timers_survive_a_killed_process_and_fire_once_across_two(redis_url: str, tmp_path: Path) -> None:
    (tmp_path / "kefu.yaml").write_text(CONFIG)
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "sla.yaml").write_text(PROFILES)
    cfg = tmp_path / "kefu.yaml"
    r = aioredis.from_url(redis_url, decode_responses=True)
    first = Serve(cfg, redis_url, tmp_path)
    later: list[Serve] = []
    try:
        first.wait_ready()
        async with aiohttp.ClientSession() as http:
            socks = [(await customer(http, first.base))[0] for _ in range(N)]
            for s in socks:
                await s.send({"type": "message", "text": "我要投诉", "client_msg_id": msg_id()})
            await asyncio.gather(*(s.expect(lambda f: f["type"] == "queue") for s in socks))
            first.kill()
            for s in socks:
                await s.close()
        assert await r.hlen("{rt:kefu}:tasks") == 0  # nothing was due yet
        assert await r.zcard("{rt:kefu}:timers:due") == 2 * N, "a timer fell due before the kill"

        later = [Serve(cfg, redis_url, tmp_path) for _ in range(2)]
        for p in later:
            p.wait_ready()
        deadline = time.monotonic() + 40
        while await r.hlen("{rt:kefu}:tasks") < N:
            assert time.monotonic() < deadline, "the follow-up tasks were not all created"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # room for a second firing, if there were one

        assert await r.hlen("{rt:kefu}:tasks") == N
        assert await r.zcard("{rt:kefu}:timers:due") == 0
        assert await r.zcard("{rt:kefu}:timers:inflight") == 0
        waiting = await r.zrange("{rt:kefu}:pool:supervisors:queue", 0, -1)
        assert len(waiting) == N and await r.zcard("{rt:kefu}:pool:presale:queue") == 0
        for cid in map(str, waiting):
            sla = json.loads(str(await r.hget(f"{{rt:kefu}}:conv:{cid}", "sla")))
            assert sla["escalated_to"] == "supervisors"
        for p in later:
            p.stop()
        fired = [line for p in later for line in p.log.read_text().splitlines()
                 if re.search(r"\((escalate|follow_up)\): (escalated|task) ", line)]
        assert len(fired) == 2 * N, fired  # each action once, over both processes
    finally:
        for p in [first, *later]:
            if p.proc.poll() is None:
                p.stop()
        await r.aclose()
