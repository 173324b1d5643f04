"""Rule versions across real `kefu serve` processes on one Redis: hot swap under load, a PUT on
one process used by the other, and --watch-rules."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from helpers.clients import Socket, customer, msg_id
from helpers.procs import Serve
from helpers.redis_cluster import Backend
from helpers.rulesets import ADMIN, RULES_A, RULES_B, SUPERVISOR, write_config

from routing_rules import RuleInput, compile_rules

TEXTS = ("我要退款", "这件有M码吗", "refund please", "hello")


async def _put(http: aiohttp.ClientSession, base: str, source: str, expected: str) -> str:
    async with http.put(f"{base}/api/v1/rules", json={"source": source},
                        headers={**ADMIN, "If-Match": f'"{expected}"'}) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["version"])


async def _rollback(http: aiohttp.ClientSession, base: str, target: str) -> str:
    async with http.post(f"{base}/api/v1/rules/rollback/{target}", headers=ADMIN) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["version"])


async def _routed(r: Any, want: int, timeout: float = 30) -> list[dict[str, str]]:
    """Every conversation hash once `want` of them carry a decision record."""
    deadline = time.monotonic() + timeout
    while True:
        ids = await r.zrange("{rt:kefu}:convs", 0, -1)
        convs = [await r.hgetall(f"{{rt:kefu}}:conv:{cid}") for cid in ids]
        decided = [c for c in convs if c.get("decision")]
        if len(decided) >= want:
            return decided
        assert time.monotonic() < deadline, f"{len(decided)} of {want} conversations routed"
        await asyncio.sleep(0.1)


async def _first_text(r: Any, cid: str) -> str:
    rows = await r.xrange(f"{{t:kefu:{cid}}}:log", count=1)
    return str(json.loads(rows[0][1]["m"])["text"])


async def test_hot_swap_under_load_across_two_processes(backend: Backend, tmp_path: Path) -> None:
    """On one Redis and on a 3+3 Cluster."""
    redis_url = backend.url
    cfg, _ = write_config(tmp_path)
    procs = [Serve(cfg, redis_url, tmp_path, extra=backend.serve_args) for _ in range(2)]
    r = backend.client()
    socks: list[Socket] = []
    try:
        for p in procs:
            p.wait_ready()
        a, b = procs[0].base, procs[1].base
        async with aiohttp.ClientSession() as http:
            n = 80

            async def load() -> None:
                for i in range(n):  # a steady stream across both processes while versions change
                    sock, _ = await customer(http, procs[i % 2].base)
                    socks.append(sock)
                    await sock.send({"type": "message", "text": TEXTS[i % len(TEXTS)], "client_msg_id": msg_id()})
                    await asyncio.sleep(0.01)

            flow = asyncio.create_task(load())
            await asyncio.sleep(0.1)
            v2 = await _put(http, a, RULES_B, "v1")
            await asyncio.sleep(0.15)
            v3 = await _rollback(http, b, "v1")
            await asyncio.sleep(0.15)
            v4 = await _rollback(http, a, v2)
            await flow
            await asyncio.gather(*(s.expect(lambda f: f["type"] == "ack") for s in socks))
            assert (v2, v3, v4) == ("v2", "v3", "v4")

            sources = {}
            for v in ("v1", "v2", "v3", "v4"):
                async with http.get(f"{b}/api/v1/rules/versions/{v}", headers=SUPERVISOR) as resp:
                    sources[v] = compile_rules((await resp.json())["source"])
            convs = await _routed(r, n)
            assert len(convs) == n  # none lost, none doubled
            used = set()
            for conv in convs:
                d = json.loads(conv["decision"])
                assert d["version"] in sources, d["version"]
                used.add(d["version"])
                expect = sources[d["version"]].decide(RuleInput(
                    text=await _first_text(r, conv["id"]), channel="webchat", account=conv["account"],
                    now=datetime.fromtimestamp(d["decided_at"], UTC)))
                # The pool, priority and rule all come from the one version the record names.
                assert (d["pool"], d["priority"], d["rule"]) == (expect.pool, expect.priority, expect.rule)
            assert len(used) >= 2, used  # the swap really happened while messages flowed
            for s in socks:
                await s.close()
    finally:
        for p in procs:
            p.stop()
        await r.aclose()


async def test_put_on_one_process_is_used_by_the_other(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    first, second = Serve(cfg, redis_url, tmp_path), Serve(cfg, redis_url, tmp_path)
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        first.wait_ready()
        second.wait_ready()
        async with aiohttp.ClientSession() as http:
            assert await _put(http, first.base, RULES_B, "v1") == "v2"
            # Only the second process routes from now on, so its decisions show what it loaded.
            assert first.stop() == 0
            sock, _ = await customer(http, second.base)
            await sock.send({"type": "message", "text": "我要退款", "client_msg_id": msg_id()})
            await sock.expect(lambda f: f["type"] == "ack")
            [conv] = await _routed(r, 1)
            d = json.loads(conv["decision"])
            assert (d["version"], d["pool"], d["rule"]) == ("v2", "presale", "refund")
            await sock.close()
        assert "now deciding with v2" in second.output()
    finally:
        first.stop()
        second.stop()
        await r.aclose()


async def test_watch_rules_takes_a_valid_change_and_ignores_an_invalid_one(redis_url: str, tmp_path: Path) -> None:
    cfg, rules_file = write_config(tmp_path)
    # Two processes watch the same file: a change must become one version, not two.
    proc, twin = (Serve(cfg, redis_url, tmp_path, extra=["--watch-rules"]) for _ in range(2))

    async def active(http: aiohttp.ClientSession) -> dict[str, Any]:
        async with http.get(f"{proc.base}/api/v1/rules", headers=SUPERVISOR) as resp:
            return dict(await resp.json())

    try:
        proc.wait_ready()
        twin.wait_ready()
        async with aiohttp.ClientSession() as http:
            assert (await active(http))["version"] == "v1"
            rules_file.write_text(RULES_B, encoding="utf-8")
            deadline = time.monotonic() + 15
            while (now := await active(http))["version"] == "v1":
                assert time.monotonic() < deadline, "the changed file was not picked up"
                await asyncio.sleep(0.1)
            assert now["version"] == "v2" and now["source"] == RULES_B
            assert now["activated_by"] == f"file:{rules_file}"

            rules_file.write_text(RULES_A.replace("intent: refund", "intent: refnud"), encoding="utf-8")
            deadline = time.monotonic() + 15
            while not all("is invalid" in p.output() for p in (proc, twin)):
                assert time.monotonic() < deadline, "the invalid file was not looked at"
                await asyncio.sleep(0.1)
            assert f"{rules_file}:5:20: unknown intent" in proc.output()
            assert (await active(http))["version"] == "v2"
            async with http.get(f"{proc.base}/api/v1/rules/versions", headers=SUPERVISOR) as resp:
                assert [v["version"] for v in await resp.json()] == ["v2", "v1"]
    finally:
        proc.stop()
        twin.stop()
