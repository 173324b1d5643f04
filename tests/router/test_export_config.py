"""`kefu export-config`: the live state (agents without secrets, pools, hours, shifts, quick
replies, FAQ, rules) written to YAML that `kefu check` accepts; seeding an empty Redis with it
gives the same live state back, and exporting that again gives the same files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers.app import running
from helpers.redis_server import RedisServer
from helpers.rulesets import ADMIN, SUPERVISOR, write_config

from router.cli.main import main
from router.config.settings import load_settings
from router.live.kinds import KINDS as LIVE
from router.live.kinds import Context

QUICK = "stages:\n  greeting: 问候\nreplies:\n  - id: vip-welcome\n    stage: greeting\n    title: 贵宾欢迎\n" \
        "    text: 尊敬的{customer_name}，欢迎光临{shop}。\n"
FAQ = "version: 2\nentries:\n  - id: lounge\n    question: 贵宾室在哪里\n    answer: 三楼东侧。\n    category: 门店\n"
HOURS = "hours:\n  timezone: Asia/Shanghai\n  days: mon-fri\n  hours: '10:00-18:00'\n  closed: ['2026-10-01']\n"
SHIFTS = "shifts:\n  - name: night\n    start: '22:00'\n    end: '06:00'\n    agents: [al]\n"
RULES = "default:\n  pool: presale\nrules:\n  - name: vip\n    when: {segment: vip}\n    then: {pool: vip, skills: [vip_care]}\n"
KINDS = ("pools", "hours", "shifts", "quick_replies", "faq")


async def _put(http: aiohttp.ClientSession, base: str, path: str, source: str) -> None:
    async with http.get(f"{base}{path}", headers=SUPERVISOR) as r:
        version = (await r.json())["version"]
    async with http.put(f"{base}{path}", json={"source": source},
                        headers={**ADMIN, "If-Match": f'"{version}"'}) as r:
        assert r.status == 200, await r.text()


async def _live(http: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> dict[str, Any]:
    """What the process serves, as data (a seeded document may be laid out differently)."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        async with http.get(f"{base}/api/v1/admin/{kind}", headers=headers) as r:
            out[kind] = LIVE[kind].check((await r.json())["source"], Context())
    async with http.get(f"{base}/api/v1/rules", headers=headers) as r:
        out["rules"] = (await r.json())["source"]
    async with http.get(f"{base}/api/v1/agents", headers=headers) as r:
        out["agents"] = sorted((a["id"], a["role"], tuple(a["pools"]), a["max_chats"])
                               for a in (await r.json())["agents"])
    return out


def _export(cfg: Path, url: str, out: Path) -> dict[str, str]:
    assert main(["export-config", "--config", str(cfg), "--redis-url", url, "--out", str(out)]) == 0
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}


async def test_round_trip(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = write_config(tmp_path)
    async with running(load_settings(cfg), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/v1/pools", json={"id": "vip", "name": "贵宾", "skills": ["vip_care"]},
                             headers=ADMIN) as r:
            assert r.status == 201
        for kind, source in (("quick_replies", QUICK), ("faq", FAQ), ("hours", HOURS), ("shifts", SHIFTS)):
            await _put(http, base, f"/api/v1/admin/{kind}", source)
        await _put(http, base, "/api/v1/rules", RULES)
        before = await _live(http, base, SUPERVISOR)

    out = tmp_path / "export"
    files = await asyncio.to_thread(_export, cfg, redis_url, out)
    assert sorted(files) == ["faq.yaml", "kefu.yaml", "quick_replies.yaml", "routing.yaml"]
    assert (files["faq.yaml"], files["quick_replies.yaml"], files["routing.yaml"]) == (FAQ, QUICK, RULES)
    text = "\n".join(files.values())
    for token in ("ada-admin-token-1", "sue-super-token-1", "al-agent-token-12"):
        assert token not in text  # agents without secrets
    assert "token_env: KEFU_TOKEN_ADA" in files["kefu.yaml"]
    capsys.readouterr()
    assert main(["check", "--config", str(out / "kefu.yaml")]) == 0, capsys.readouterr()
    for aid in ("ada", "sue", "al"):
        monkeypatch.setenv(f"KEFU_TOKEN_{aid.upper()}", f"{aid}-exported-token-1")
    exported = load_settings(out / "kefu.yaml")
    assert [(p.id, p.skills) for p in exported.pools] == [("presale", ()), ("aftersale", ()), ("vip", ("vip_care",))]
    assert exported.bot.hours is not None and exported.bot.hours.closed == ["2026-10-01"]
    assert [s.name for s in exported.shifts] == ["night"]

    # An empty Redis seeded with the export has the same live state.
    fresh = RedisServer(tmp_path / "fresh")
    fresh.start()
    try:
        async with running(load_settings(out / "kefu.yaml"), fresh.url) as (_rt, base2), \
                aiohttp.ClientSession() as http:
            assert await _live(http, base2, {"Authorization": "Bearer sue-exported-token-1"}) == before
        again = await asyncio.to_thread(_export, out / "kefu.yaml", fresh.url, tmp_path / "again")
    finally:
        fresh.stop()
    assert again == files
