"""The rules API on a real Redis: versions, If-Match, roles, invalid rules, rollback, explain."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from helpers.app import running
from helpers.clients import customer, msg_id
from helpers.rulesets import ADMIN, AGENT, RULES_A, RULES_B, SUPERVISOR, write_config

from router.config.settings import load_settings


async def _decision(http: aiohttp.ClientSession, base: str, r: Any, text: str) -> dict[str, Any]:
    """Start a new conversation with `text`; its decision record once routed."""
    sock, _ = await customer(http, base)
    await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    ack = await sock.expect(lambda f: f["type"] == "ack")
    await sock.close()
    for _ in range(100):
        ids = await r.zrange("{rt:kefu}:convs", 0, -1)
        for cid in ids:
            log = await r.xrange(f"{{t:kefu:{cid}}}:log")
            if any(ack["message_id"] in fields["m"] for _, fields in log):
                raw = await r.hget(f"{{rt:kefu}}:conv:{cid}", "decision")
                if raw:
                    return dict(json.loads(raw))
        await asyncio.sleep(0.05)
    raise AssertionError("message never routed")


async def test_put_validate_rollback_and_refusals(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    r = aioredis.from_url(redis_url, decode_responses=True)
    async with running(load_settings(cfg), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/v1/rules", headers=SUPERVISOR) as resp:
            assert resp.status == 200 and resp.headers["ETag"] == '"v1"'
            first = await resp.json()
        assert first["version"] == "v1" and first["source"] == RULES_A
        assert first["activated_by"].startswith("file:")
        async with http.get(f"{base}/api/v1/rules", headers={**SUPERVISOR, "If-None-Match": '"v1"'}) as resp:
            assert resp.status == 304
        assert (await _decision(http, base, r, "我要退款"))["version"] == "v1"
        assert (await _decision(http, base, r, "我要退款"))["pool"] == "aftersale"

        url = f"{base}/api/v1/rules"
        yaml = {"Content-Type": "application/yaml"}
        async with http.get(url, headers=AGENT) as resp:
            assert resp.status == 403
        for who in (AGENT, SUPERVISOR):
            async with http.put(url, data=RULES_B, headers={**who, **yaml, "If-Match": '"v1"'}) as resp:
                assert resp.status == 403
        async with http.put(url, data=RULES_B, headers={**ADMIN, **yaml}) as resp:
            assert resp.status == 428
        async with http.put(url, data=RULES_B, headers={**ADMIN, **yaml, "If-Match": '"v7"'}) as resp:
            assert resp.status == 412 and (await resp.json())["error"] == "stale_version"
        broken = RULES_B.replace("pool: presale", "pool: nowhere").replace("intent: refund", "intnt: refund")
        async with http.put(url, json={"source": broken}, headers={**ADMIN, "If-Match": '"v1"'}) as resp:
            assert resp.status == 422
            body = await resp.json()
        assert body["error"] == "invalid_rules"
        where = {(p["line"], p["col"], p["severity"]) for p in body["problems"]}
        assert (5, 12, "error") in where  # intnt: unknown key, did you mean
        assert (6, 18, "error") in where  # pool: nowhere is not a configured pool
        assert any("did you mean" in p["message"] for p in body["problems"])
        async with http.get(f"{base}/api/v1/rules/versions", headers=SUPERVISOR) as resp:
            assert [v["version"] for v in await resp.json()] == ["v1"]  # nothing changed

        async with http.post(f"{base}/api/v1/rules/validate", json={"source": broken}, headers=SUPERVISOR) as resp:
            assert (await resp.json())["ok"] is False
        async with http.post(f"{base}/api/v1/rules/validate", json={"source": RULES_B}, headers=SUPERVISOR) as resp:
            assert await resp.json() == {"ok": True, "problems": []}

        async with http.put(url, data=RULES_B, headers={**ADMIN, **yaml, "If-Match": '"v1"'}) as resp:
            assert resp.status == 200 and (await resp.json())["version"] == "v2"
        # Another admin still holding v1 is refused, and changes nothing.
        async with http.put(url, data=RULES_A, headers={**ADMIN, **yaml, "If-Match": "v1"}) as resp:
            assert resp.status == 412
        async with http.get(f"{base}/api/v1/rules", headers={**SUPERVISOR, "If-None-Match": '"v1"'}) as resp:
            assert resp.status == 200 and resp.headers["ETag"] == '"v2"'
        d = await _decision(http, base, r, "我要退款")
        assert (d["version"], d["pool"], d["priority"]) == ("v2", "presale", 20)
        assert (await _decision(http, base, r, "hello"))["pool"] == "aftersale"

        async with http.get(f"{base}/api/v1/rules/versions/v2", headers=SUPERVISOR) as resp:
            v2 = await resp.json()
        assert v2["author"] == "ada" and v2["source"] == RULES_B
        assert "-  pool: presale\n+  pool: aftersale\n" in v2["diff"]
        async with http.get(f"{base}/api/v1/rules/versions/v9", headers=SUPERVISOR) as resp:
            assert resp.status == 404

        async with http.post(f"{base}/api/v1/rules/rollback/v1", headers=SUPERVISOR) as resp:
            assert resp.status == 403
        async with http.post(f"{base}/api/v1/rules/rollback/v1", headers=ADMIN) as resp:
            assert resp.status == 200 and (await resp.json())["version"] == "v3"
        d = await _decision(http, base, r, "我要退款")
        assert (d["version"], d["pool"], d["priority"]) == ("v3", "aftersale", 10)
        async with http.get(f"{base}/api/v1/rules/versions", headers=SUPERVISOR) as resp:
            history = await resp.json()
        assert [v["version"] for v in history] == ["v3", "v2", "v1"]
        assert history[0]["summary"].startswith("rollback to v1") and history[0]["active"]
        async with http.get(f"{base}/api/v1/rules/versions/v3", headers=SUPERVISOR) as resp:
            assert (await resp.json())["source"] == RULES_A
    await r.aclose()


async def test_explain_live_and_candidate(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    async with running(load_settings(cfg), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        url = f"{base}/api/v1/rules/explain"
        async with http.post(url, json={"text": "hello", "channel": "wechat"}, headers=SUPERVISOR) as resp:
            live = await resp.json()
        assert live["version"] == "v1" and live["decision"]["pool"] == "presale"
        assert live["decision"]["rule"] is None
        assert live["explanation"][0].startswith("rule 'refund' did not match")
        # The same steps as codes, for the console to word (issue 19, item 8).
        assert live["steps"] == [
            {"rule": "refund", "outcome": "missed",
             "reason": {"code": "has", "field": "intent", "all": False, "values": ["refund"], "present": [],
                        "hits": [], "held": False}},
            {"rule": None, "outcome": "default", "pool": "presale"}]
        async with http.post(url, json={"text": "我要退款", "source": RULES_B}, headers=SUPERVISOR) as resp:
            cand = await resp.json()
        assert cand["decision"]["pool"] == "presale" and cand["decision"]["rule"] == "refund"
        async with http.post(url, json={"text": "x", "source": "default: {pool: 3"}, headers=SUPERVISOR) as resp:
            assert resp.status == 422 and (await resp.json())["problems"][0]["line"] == 1
        async with http.post(url, json={"channel": "wechat"}, headers=SUPERVISOR) as resp:
            assert resp.status == 400
