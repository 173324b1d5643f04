"""The decision history in Redis: export-trace, replay from a trace and straight from Redis, and
POST /api/v1/rules/replay, all reporting the same moved count and changing nothing live."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from helpers.app import running
from helpers.clients import customer, msg_id
from helpers.rulesets import RULES_A, SUPERVISOR, write_config

from router.config.settings import load_settings

# Refunds go to presale instead of aftersale: exactly the refund conversations move.
RULES_C = RULES_A.replace("then: {pool: aftersale}", "then: {pool: presale}")


def kefu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "router", "rules", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


async def test_export_trace_then_replay_reports_the_moved_count(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(RULES_C, encoding="utf-8")
    r = aioredis.from_url(redis_url, decode_responses=True)
    async with running(load_settings(cfg), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        texts = ["我要退款"] * 6 + ["这件有M码吗"] * 4
        for text in texts:
            sock, _ = await customer(http, base)
            await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
            await sock.expect(lambda f: f["type"] == "ack")
            await sock.close()
        deadline = time.monotonic() + 20
        while len([c for c in await r.zrange("{rt:kefu}:convs", 0, -1)
                   if await r.hexists(f"{{rt:kefu}}:conv:{c}", "decision")]) < len(texts):
            assert time.monotonic() < deadline, "not every conversation was routed"
            await asyncio.sleep(0.05)
        before = await r.get("{rules:kefu}:active")

        trace = tmp_path / "trace.jsonl"
        done = await asyncio.to_thread(kefu, "export-trace", "--redis-url", redis_url, "--out", str(trace), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "exported 10 decisions" in done.stderr and "export: 100%" in done.stderr
        lines = [json.loads(x) for x in trace.read_text(encoding="utf-8").splitlines()]
        assert sorted(x["input"]["text"] for x in lines) == sorted(texts)
        assert {x["decision"]["version"] for x in lines} == {"v1"}
        assert sum(x["decision"]["pool"] == "aftersale" for x in lines) == 6

        later = await asyncio.to_thread(kefu, "export-trace", "--redis-url", redis_url, "--since", "2100-01-01T00:00",
                                        cwd=tmp_path)
        assert later.returncode == 0 and later.stdout == "" and "exported 0 decisions" in later.stderr

        from_trace = await asyncio.to_thread(kefu, "replay", "--rules", str(candidate), "--trace", str(trace), cwd=tmp_path)
        from_redis = await asyncio.to_thread(kefu, "replay", "--rules", str(candidate), "--redis-url", redis_url,
                                             cwd=tmp_path)
        for run in (from_trace, from_redis):
            assert run.returncode == 0, run.stdout + run.stderr
            assert "replayed 10 decisions" in run.stdout
            assert "changed pool:        6 (60.0%)" in run.stdout
            assert "aftersale -> presale: 6" in run.stdout
        assert "history: 100%" in from_redis.stderr and "replay: 100%" in from_redis.stderr

        async with http.post(f"{base}/api/v1/rules/replay", json={"source": RULES_C}, headers=SUPERVISOR) as resp:
            report = await resp.json()
        assert (report["total"], report["pool_changed"]) == (10, 6)
        assert report["moves"] == [{"from": "aftersale", "to": "presale", "count": 6}]
        since_later = {"source": RULES_C, "since": time.time() + 60}
        async with http.post(f"{base}/api/v1/rules/replay", json=since_later, headers=SUPERVISOR) as resp:
            assert (await resp.json())["total"] == 0
        # Replaying changed nothing live.
        assert await r.get("{rules:kefu}:active") == before == "v1"
    await r.aclose()
