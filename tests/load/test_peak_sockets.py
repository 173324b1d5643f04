"""At the peak, nothing is lost to load: 1,000 web chat customers and 50 agents on one `kefu serve`,
and 3,000 customers over three, all writing at once through `kefu loadgen`'s engine. Every line
reaches an agent once, every answer reaches its customer once, and every conversation Redis
assigned was announced to its agent in an `assigned` frame. Counted, not sampled."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from helpers.procs import Serve

from router.loadgen import Plan, Tally, run
from router.store.keys import Keys

KEYS = Keys()  # the default namespace, as `kefu serve` uses it
SCRIPT = ("你好，在吗", "这件外套有M码吗")


def config(agents: int, cap: int) -> str:
    """The shipped Redis timeouts: a customer's message waits up to `redis.chat_ingest_timeout_s`
    (20 s) before the page is told to send it again (docs/performance.md)."""
    return ("pools:\n  - id: presale\nagents:\n"
            + "".join(f"  - id: a{i}\n    token: a{i}-token-123456\n    pools: [presale]\n    max_chats: {cap}\n"
                      for i in range(agents))
            + "worker:\n  claim_idle_ms: 2000\n")


async def assigned_in_redis(url: str) -> dict[str, str]:
    """conversation id -> the agent Redis gave it to (kept on the conversation after close)."""
    r = aioredis.from_url(url, decode_responses=True)
    try:
        pipe = r.pipeline(transaction=False)
        ids = await r.zrange(KEYS.conv_index, 0, -1)
        for cid in ids:
            pipe.hget(KEYS.conv(cid), "agent")
        return {cid: aid for cid, aid in zip(ids, await pipe.execute(), strict=True) if aid}
    finally:
        await r.aclose()


async def states(url: str) -> dict[str, int]:
    """How many conversations are in each state: where a stuck line waits, when one does."""
    r = aioredis.from_url(url, decode_responses=True)
    try:
        ids = await r.zrange(KEYS.conv_index, 0, -1)
        pipe = r.pipeline(transaction=False)
        for cid in ids:
            pipe.hget(KEYS.conv(cid), "state")
        return dict(Counter(await pipe.execute()))
    finally:
        await r.aclose()


def check(report: dict[str, Any], tally: Tally, given: dict[str, str], customers: int, script: tuple[str, ...]) -> None:
    lines = customers * len(script)
    said = json.dumps(report)  # the whole report on failure, not a shortened repr
    assert report["sent"] == lines and report["acked"] == lines, said
    assert report["lost_to_agent"] == 0 and report["duplicates_at_agent"] == 0, said
    assert report["answers_sent"] == lines, said
    assert report["lost_to_customer"] == 0 and report["duplicates_at_customer"] == 0, said
    told = {(aid, cid) for aid, cids in tally.assigned.items() for cid in cids}
    owed = {(aid, cid) for cid, aid in given.items()}
    assert owed - told == set(), f"{len(owed - told)} assignments never reached their agent"
    assert len(given) == customers, "every customer's script is one conversation"


async def running(procs: list[Serve]) -> None:
    for p in procs:
        p.wait_ready(180)


@pytest.mark.slow
async def test_thousand_customers_fifty_agents_one_process(redis_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(config(50, 10))  # 500 seats for 1,000 customers: half wait, then take freed seats
    proc = Serve(cfg, redis_url, tmp_path)
    try:
        await running([proc])
        plan = Plan(bases=(proc.base,), agent_tokens=tuple(f"a{i}-token-123456" for i in range(50)),
                    customers=1000, rate=0, script=SCRIPT, drain_s=400)
        report, tally = await run(plan, progress=False)
        report["redis_states"] = await states(redis_url)
        check(report, tally, await assigned_in_redis(redis_url), 1000, SCRIPT)
        assert "Too many connections" not in proc.output()
        assert "frame dropped" not in proc.output()
    finally:
        proc.stop()


@pytest.mark.slow
async def test_three_thousand_customers_three_processes(redis_url: str, tmp_path: Path) -> None:
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(config(150, 20))  # a seat for everyone: the queue's path is the test above
    procs = [Serve(cfg, redis_url, tmp_path) for _ in range(3)]
    try:
        await running(procs)
        plan = Plan(bases=tuple(p.base for p in procs),
                    agent_tokens=tuple(f"a{i}-token-123456" for i in range(150)),
                    customers=3000, rate=0, script=SCRIPT[:1], drain_s=600)
        report, tally = await run(plan, progress=False)
        report["redis_states"] = await states(redis_url)
        check(report, tally, await assigned_in_redis(redis_url), 3000, SCRIPT[:1])
    finally:
        for p in procs:
            p.stop()
