"""A live document, once active, is what this process's parts use: the bot's hours and FAQ, the
roster's shifts, the quick replies, the pools the rules may name."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from helpers.app import running
from helpers.rulesets import ADMIN, SUPERVISOR, write_config

from router.config.settings import load_settings

SH = ZoneInfo("Asia/Shanghai")


async def _put(http: aiohttp.ClientSession, base: str, kind: str, source: str) -> int:
    async with http.get(f"{base}/api/v1/admin/{kind}", headers=SUPERVISOR) as r:
        version = (await r.json())["version"]
    async with http.put(f"{base}/api/v1/admin/{kind}", json={"source": source},
                        headers={**ADMIN, "If-Match": f'"{version}"'}) as r:
        return r.status


async def test_each_kind_reaches_its_part(redis_url: str, tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    async with running(load_settings(cfg), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        assert rt.bot.hours is None  # the config has none: always open
        monday_noon = datetime(2026, 12, 7, 12, 0, tzinfo=SH).timestamp()
        assert await _put(http, base, "hours", "hours:\n  days: sat-sun\n  hours: '10:00-18:00'\n") == 200
        assert rt.bot.hours is not None and not rt.bot.hours.is_open(monday_noon)
        assert await _put(http, base, "hours", "hours: null\n") == 200
        assert rt.bot.hours is None

        assert await _put(http, base, "shifts", "shifts:\n  - {name: early, start: '06:00', end: '14:00', "
                                                "agents: [al, sue]}\n") == 200
        assert [(s.name, sorted(s.agents)) for s in rt.roster.shifts] == [("early", ["al", "sue"])]

        faq = "entries:\n  - {id: parking, question: 停车场在哪, answer: 地下二层。, category: 门店}\n"
        assert await _put(http, base, "faq", faq) == 200
        assert rt.bot.library.faq is not None and [e.id for e in rt.bot.library.faq.kb.entries] == ["parking"]
        assert "faq" in rt.bot.library.pinned  # an admin edited it: the file no longer replaces it

        quick = "stages: {greeting: 问候}\nreplies:\n  - {id: hi, stage: greeting, title: 问好, text: 您好}\n"
        assert await _put(http, base, "quick_replies", quick) == 200
        assert [r.id for r in rt.bot.library.quick.replies] == ["hi"]

        assert await _put(http, base, "pools", "pools:\n  - id: presale\n  - id: aftersale\n  - id: night\n"
                                               "    skills: [english]\n") == 200
        assert rt.rule_sync.versions.pools == {"presale", "aftersale", "night"}
        assert "english" in (rt.rule_sync.versions.skills or set())
        assert "night" in rt.bot.pools
        queues = await rt.store.ops.pool_queues(1)
        assert "night" in [q.id for q in queues]
