"""Live admin across real `kefu serve` processes on one Redis: quick replies, the FAQ, pools,
hours and shifts edited on one process are used by the other without a restart; invalid
documents are refused at line and column and change nothing; rollback; a restart keeps what
admins changed (the config only seeds an empty Redis); every change is in the audit log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from helpers.procs import Serve
from helpers.rulesets import ADMIN, AGENT, RULES_A, SUPERVISOR, write_config

from router.config.settings import load_settings

QUICK = """\
stages:
  greeting: 问候
replies:
  - id: vip-welcome
    stage: greeting
    title: 贵宾欢迎
    text: 尊敬的{customer_name}，欢迎回到{shop}，贵宾专线为您服务。
    keywords: [贵宾, vip]
"""
BAD_QUICK = QUICK.replace("{shop}", "{shoop}")
FAQ = """\
version: 1
entries:
  - id: vip-lounge
    question: 贵宾室在哪里
    variants: [贵宾休息室怎么走]
    answer: 贵宾室在三楼东侧。
    category: 门店
"""
HOURS = "hours:\n  timezone: Asia/Shanghai\n  days: mon-fri\n  hours: '10:00-18:00'\n"
SHIFTS = "shifts:\n  - name: night\n    start: '22:00'\n    end: '06:00'\n    agents: [al]\n"
RULES_VIP = RULES_A + "  - name: vip\n    when: {segment: vip}\n    then: {pool: vip}\n"


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"not seen in {timeout}s: {what}"
        await asyncio.sleep(0.2)


async def doc(http: aiohttp.ClientSession, base: str, kind: str) -> dict[str, Any]:
    async with http.get(f"{base}/api/v1/admin/{kind}", headers=SUPERVISOR) as r:
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def put(http: aiohttp.ClientSession, base: str, kind: str, source: str, expected: str) -> tuple[int, Any]:
    async with http.put(f"{base}/api/v1/admin/{kind}", data=source.encode(),
                        headers={**ADMIN, "Content-Type": "application/yaml", "If-Match": f'"{expected}"'}) as r:
        return r.status, await r.json()


async def quick_ids(http: aiohttp.ClientSession, base: str) -> list[str]:
    async with http.get(f"{base}/api/v1/quick-replies", params={"limit": "100"}, headers=AGENT) as r:
        assert r.status == 200
        return [i["id"] for i in (await r.json())["items"]]


async def test_edit_on_one_process_used_by_the_other(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    assert load_settings(cfg).pools  # the config seeds the pools document
    data = tmp_path / "data"
    a, b = (Serve(cfg, redis_url, tmp_path, data_dir=data) for _ in range(2))
    try:
        a.wait_ready()
        b.wait_ready()
        async with aiohttp.ClientSession() as http:
            # Seeded from the shipped file; both processes use it.
            first = await doc(http, a.base, "quick_replies")
            assert first["version"] == "v1" and first["activated_by"].startswith("file:")
            assert "greet-welcome" in await quick_ids(http, b.base)

            # An invalid document: every problem at its line and column; nothing changes.
            status, body = await put(http, a.base, "quick_replies", BAD_QUICK, "v1")
            assert status == 422 and body["error"] == "invalid_document"
            assert (body["problems"][0]["file"], body["problems"][0]["line"]) == ("quick_replies.yaml", 7)
            assert "shoop" in body["problems"][0]["message"]
            async with http.post(f"{b.base}/api/v1/admin/quick_replies/validate", json={"source": BAD_QUICK},
                                 headers=SUPERVISOR) as r:
                assert (await r.json())["ok"] is False
            status, body = await put(http, a.base, "quick_replies", QUICK, "v7")
            assert status == 412
            for who in (SUPERVISOR, AGENT):
                async with http.put(f"{a.base}/api/v1/admin/quick_replies", json={"source": QUICK},
                                    headers={**who, "If-Match": '"v1"'}) as r:
                    assert r.status == 403
            assert (await doc(http, b.base, "quick_replies"))["version"] == "v1"

            # A valid edit on A is used by B.
            status, body = await put(http, a.base, "quick_replies", QUICK, "v1")
            assert status == 200 and body["version"] == "v2", body

            async def b_has_vip() -> bool:
                return await quick_ids(http, b.base) == ["vip-welcome"]
            await until(b_has_vip, "the new quick replies on B")

            # The FAQ: edited on B, found by A's search.
            faq = await doc(http, b.base, "faq")
            status, body = await put(http, b.base, "faq", FAQ, faq["version"])
            assert status == 200, body

            async def a_finds_lounge() -> bool:
                async with http.get(f"{a.base}/api/v1/faq/search", params={"q": "贵宾室在哪里"}, headers=AGENT) as r:
                    items = (await r.json())["items"]
                    return bool(items) and items[0]["id"] == "vip-lounge"
            await until(a_finds_lounge, "the new FAQ entry on A")

            # A pool created on A: B lists it and accepts rules that route to it.
            async with http.post(f"{a.base}/api/v1/pools", json={"id": "vip", "name": "贵宾", "skills": ["s", 7]},
                                 headers=ADMIN) as r:
                assert r.status == 422 and (await r.json())["problems"][0]["field"] == "skills[1]"
            async with http.post(f"{a.base}/api/v1/pools", json={"id": "vip", "name": "贵宾", "skills": ["vip_care"]},
                                 headers=ADMIN) as r:
                assert r.status == 201, await r.text()
            async with http.post(f"{a.base}/api/v1/pools", json={"id": "vip"}, headers=ADMIN) as r:
                assert r.status == 409

            async def b_lists_vip() -> bool:
                async with http.get(f"{b.base}/api/v1/pools", headers=SUPERVISOR) as r:
                    pools = (await r.json())["pools"]
                return {"id": "vip", "name": "贵宾", "skills": ["vip_care"]} in pools and \
                    (await doc(http, b.base, "pools"))["in_use"] == (await doc(http, b.base, "pools"))["version"]
            await until(b_lists_vip, "the vip pool on B")
            async with http.get(f"{b.base}/api/v1/rules", headers=SUPERVISOR) as r:
                rules_v = (await r.json())["version"]
            async with http.put(f"{b.base}/api/v1/rules", json={"source": RULES_VIP},
                                headers={**ADMIN, "If-Match": f'"{rules_v}"'}) as r:
                assert r.status == 200, await r.text()
            async with http.patch(f"{b.base}/api/v1/pools/vip", json={"name": "VIP"}, headers=ADMIN) as r:
                assert r.status == 200 and (await r.json())["pool"] == {"id": "vip", "name": "VIP",
                                                                        "skills": ["vip_care"]}

            # Hours and shifts reach the other process too.
            hours = await doc(http, a.base, "hours")
            assert (await put(http, a.base, "hours", HOURS, hours["version"]))[0] == 200
            shifts = await doc(http, a.base, "shifts")
            status, body = await put(http, a.base, "shifts", SHIFTS.replace("[al]", "[nobody]"), shifts["version"])
            assert status == 422 and "unknown agent 'nobody'" in body["problems"][0]["message"]
            assert (await put(http, a.base, "shifts", SHIFTS, shifts["version"]))[0] == 200
            for kind in ("hours", "shifts"):
                async def b_uses(kind: str = kind) -> bool:
                    d = await doc(http, b.base, kind)
                    return bool(d["in_use"] == d["version"])
                await until(b_uses, f"{kind} on B")

            # Rollback on B: the old source as a new version; A drops the VIP reply.
            async with http.post(f"{b.base}/api/v1/admin/quick_replies/rollback/v1", headers=ADMIN) as r:
                assert r.status == 200 and (await r.json())["version"] == "v3"

            async def a_back() -> bool:
                return "greet-welcome" in await quick_ids(http, a.base)
            await until(a_back, "the rolled-back quick replies on A")
            async with http.get(f"{a.base}/api/v1/admin/quick_replies/versions", headers=SUPERVISOR) as r:
                versions = await r.json()
            assert [v["version"] for v in versions] == ["v3", "v2", "v1"] and versions[0]["active"]
            assert versions[0]["summary"].startswith("rollback to v1")
            async with http.get(f"{a.base}/api/v1/admin/quick_replies/versions/v2", headers=SUPERVISOR) as r:
                v2 = await r.json()
            assert "+  - id: vip-welcome" in v2["diff"] and v2["author"] == "ada"

            # Every change is audited, with before and after.
            async with http.get(f"{a.base}/api/v1/audit", headers=ADMIN) as r:
                entries = (await r.json())["entries"]
            actions = [e["action"] for e in entries]
            for action in ("quick_replies.update", "faq.update", "pool.create", "pool.update", "hours.update",
                           "shifts.update", "quick_replies.rollback", "rules.activate"):
                assert action in actions, actions
            created = next(e for e in entries if e["action"] == "pool.create")
            assert created["target"] == "vip" and created["before"] is None
            assert created["after"] == {"id": "vip", "name": "贵宾", "skills": ["vip_care"]}

        # A restart with the same config keeps what the admins changed: Redis holds the truth.
        a.stop()
        a = Serve(cfg, redis_url, tmp_path, data_dir=data)
        a.wait_ready()
        async with aiohttp.ClientSession() as http:
            assert (await doc(http, a.base, "faq"))["activated_by"] == "ada"
            assert (await doc(http, a.base, "quick_replies"))["version"] == "v3"
            async with http.get(f"{a.base}/api/v1/pools", headers=SUPERVISOR) as r:
                assert "vip" in [p["id"] for p in (await r.json())["pools"]]

            async def a_finds_lounge_again() -> bool:
                async with http.get(f"{a.base}/api/v1/faq/search", params={"q": "贵宾室在哪里"}, headers=AGENT) as r:
                    body = await r.json()
                items = body["items"]
                return bool(items) and items[0]["id"] == "vip-lounge"
            await until(a_finds_lounge_again, "the edited FAQ after a restart")
    finally:
        a.stop()
        b.stop()
