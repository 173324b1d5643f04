"""The shop's availability is pushed to open widgets (issue 19): 200 pages open while the last
agent goes offline and comes back each hear each change once, as `availability` frames, and the
widget start says the same; outside business hours nobody online reads `off_hours`."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from helpers.app import running
from helpers.clients import Socket, agent, customer

from router.config.settings import parse_settings

PAGES = 200
CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    name: Alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 5
  - id: sue
    name: Sue
    token: sue-token-12345
    role: supervisor
    pools: [presale]
    max_chats: 0
rate_limits:
  enabled: false
"""
HOURS = """
bot:
  hours:
    timezone: Asia/Shanghai
    days: mon-fri
    hours: "09:00-18:00"
"""
ALICE = {"Authorization": "Bearer alice-token-1234"}


def said(page: Socket) -> list[str]:
    return [f["availability"] for f in page.of("availability")]


async def set_status(http: aiohttp.ClientSession, base: str, status: str) -> None:
    async with http.post(f"{base}/api/v1/agents/alice/status", json={"status": status}, headers=ALICE) as r:
        assert r.status == 200, await r.text()


async def start(http: aiohttp.ClientSession, base: str) -> str:
    async with http.get(f"{base}/api/v1/webchat/widget") as r:
        body = await r.json()
        assert body["online"] == (body["availability"] == "online")
        return str(body["availability"])


async def test_two_hundred_open_widgets_hear_each_change_once(redis_url: str, tmp_path: Path) -> None:
    async with running(parse_settings(CONFIG, "<test>"), redis_url, data_dir=tmp_path) as (_rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:  # 200 sockets at once
        alice = await agent(http, base, "alice-token-1234")  # connecting puts her online
        pages = [(await customer(http, base))[0] for _ in range(PAGES)]
        for page in pages:  # each page is told on connect, before anything changes
            await page.expect(lambda f: f["type"] == "availability")
        assert {tuple(said(p)) for p in pages} == {("online",)}
        assert await start(http, base) == "online"

        # A break is no one to answer either: every page hears "nobody", once.
        await alice.send({"type": "status", "status": "away", "reason": "break"})
        for page in pages:
            await page.expect(lambda f: f["type"] == "availability" and f["availability"] == "nobody", timeout=5)
        assert await start(http, base) == "nobody"
        await set_status(http, base, "offline")  # still nobody: nothing to say
        marks = [len(p.frames) for p in pages]
        await set_status(http, base, "online")
        for page, mark in zip(pages, marks, strict=True):
            await page.expect(lambda f: f["type"] == "availability" and f["availability"] == "online", timeout=5,
                              start=mark)
        await asyncio.sleep(0.5)
        assert {tuple(said(p)) for p in pages} == {("online", "nobody", "online")}

        # A page that connects now starts from what is true now.
        late, _ = await customer(http, base)
        await late.expect(lambda f: f["type"] == "availability")
        assert said(late) == ["online"]
        for page in [*pages, late]:
            await page.close()
        await alice.close()


async def test_nobody_online_outside_business_hours_is_off_hours(redis_url: str, tmp_path: Path) -> None:
    settings = parse_settings(CONFIG + HOURS, "<test>")
    night = datetime(2024, 11, 20, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    async with running(settings, redis_url, data_dir=tmp_path) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: night  # a Wednesday night
        assert await start(http, base) == "off_hours"
        page, _ = await customer(http, base)
        await page.expect(lambda f: f["type"] == "availability")
        alice = await agent(http, base, "alice-token-1234")  # someone in, off hours or not
        await page.expect(lambda f: f["type"] == "availability" and f["availability"] == "online", timeout=5)
        mark = len(page.frames)
        await alice.send({"type": "status", "status": "away"})
        await page.expect(lambda f: f["type"] == "availability" and f["availability"] == "off_hours", timeout=5,
                          start=mark)
        assert said(page) == ["off_hours", "online", "off_hours"]
        await page.close()
        await alice.close()
