"""The reports summary counts today's conversations the archive does not hold yet, from Redis:
open ones, a closed one still waiting in the archive queue, a reopened one (whose older row the
archive holds); each exactly once, before and after the archive catches up. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer, msg_id
from helpers.traffic import many
from test_archive_write import SUE, until

from router.archive.snapshot import Snapshot
from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

ARCHIVED = 40
OPEN = 20


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=100) + f"""
archive:
  url: {archive_url}
""", "<test>")


async def summary(http: aiohttp.ClientSession, base: str, since: float, extra: str = "") -> dict[str, Any]:
    async with http.get(f"{base}/api/v1/reports/summary?from={since}&to={time.time() + 60}{extra}",
                        headers=SUE) as r:
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def archived(rt: Runtime, cids: list[str], version: int = 1) -> bool:
    for cid in cids:
        if await rt.archive.version(cid) != version:
            return False
    return True


async def test_summary_adds_what_only_redis_holds(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        await asyncio.wait_for(rt.archive.ready.wait(), 60)
        since = time.time() - 1
        alice = await agent(http, base, "alice-token-1234")
        # Each customer once: the reopen window is on, and used below.
        done = await many(http, base, alice, ARCHIVED, ARCHIVED)
        await until(lambda: archived(rt, [d.cid for d in done]))
        s = await summary(http, base, since)
        assert (s["conversations"], s["live"], s["messages_in"], s["messages_out"]) == (ARCHIVED, 0, ARCHIVED, ARCHIVED)

        # A reopened one: the archive holds its first close, Redis the conversation going on.
        back, _ = await customer(http, base, done[0].token)
        start = len(alice.frames)
        await back.send({"type": "message", "text": "又有问题了", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == done[0].cid, start=start)
        # Open ones, never archived.
        opened: list[tuple[Socket, str]] = []
        for n in range(OPEN):
            cust, _ = await customer(http, base)
            start = len(alice.frames)
            await cust.send({"type": "message", "text": f"第{n}个问题", "client_msg_id": msg_id()})
            got = await alice.expect(lambda f: f["type"] == "assigned", start=start)
            opened.append((cust, got["conversation"]["id"]))
        s = await summary(http, base, since)
        assert s["conversations"] == ARCHIVED + OPEN and s["live"] == 1 + OPEN
        assert (s["messages_in"], s["messages_out"]) == (ARCHIVED + 1 + OPEN, ARCHIVED)
        assert [a["key"] for a in s["by"]["agent"]] == ["alice"] and s["by"]["agent"][0]["conversations"] == 60
        assert sum(h["conversations"] for h in s["by"]["hour"]) == ARCHIVED + OPEN
        assert (await summary(http, base, since, "&agent=bob"))["conversations"] == 0
        assert (await summary(http, base, since, "&channel=webchat"))["live"] == 1 + OPEN

        # One closed while the archive is held up: still counted, from Redis, once.
        gate = asyncio.Event()
        real = rt.archive.write_many

        async def held(snaps: list[Snapshot]) -> list[bool]:
            await gate.wait()
            return await real(snaps)

        rt.archive.write_many = held  # type: ignore[method-assign]
        cust, cid = opened[0]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "已处理", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "已处理")
        await alice.send({"type": "close", "conversation_id": cid})
        await cust.expect(lambda f: f["type"] == "closed")
        s = await summary(http, base, since)
        assert s["conversations"] == ARCHIVED + OPEN and s["live"] == 1 + OPEN
        assert s["messages_out"] == ARCHIVED + 1 and await rt.archive.version(cid) is None
        gate.set()
        await until(lambda: archived(rt, [cid]))
        s = await summary(http, base, since)
        assert s["conversations"] == ARCHIVED + OPEN and s["live"] == OPEN  # now from the archive
        assert (s["messages_in"], s["messages_out"]) == (ARCHIVED + 1 + OPEN, ARCHIVED + 1)

        # A range that ends before today's conversations began counts none of them.
        async with http.get(f"{base}/api/v1/reports/summary?from={since - 7200}&to={since}", headers=SUE) as r:
            body = await r.json()
        assert body["conversations"] == 0 and body["live"] == 0
        for c, _ in opened:
            await c.close()
        await back.close()
        await alice.close()
