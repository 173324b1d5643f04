"""The console's history panel reads across both stores: a customer's conversations that only the
archive holds now (retention dropped them from Redis) show beside today's live one, with their
transcripts. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.archive import wait_archived
from helpers.clients import agent, customer, msg_id
from helpers.traffic import chat, close

from router.config.settings import Settings, parse_settings
from router.web.console_api import HISTORY_CONVERSATIONS

ALICE = {"Authorization": "Bearer alice-token-1234"}
BOB = {"Authorization": "Bearer bob-token-12345"}
SUE = {"Authorization": "Bearer sue-token-12345"}
EARLIER = HISTORY_CONVERSATIONS + 4
"""More earlier conversations than the panel shows, so the cut takes the newest."""


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=20).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 60
  sweep_interval_s: 3600
rate_limits:
  enabled: false   # one customer comes back two dozen times within seconds
""", "<test>")


async def history(http: aiohttp.ClientSession, base: str, cust: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with http.get(f"{base}/api/v1/customers/{cust}/history", headers=headers) as r:
        return r.status, await r.json()


async def test_history_shows_archived_conversations_beside_the_live_one(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        # One customer, one socket (a web chat session may only reconnect so often), who comes
        # back again and again: each time a new conversation.
        cust_ws, _ = await customer(http, base)
        earlier: list[tuple[str, list[tuple[str, str]]]] = []
        for n in range(EARLIER):
            line, answer = f"第{n}次来问：订单20241120{n:08d}到哪了", f"亲，第{n}次回复"
            cid = await chat(cust_ws, alice, [line], [answer])
            await close(alice, cust_ws, cid)
            earlier.append((cid, [("customer", line), ("agent", answer)]))
        await wait_archived(rt, EARLIER)
        # Retention runs as if a day had passed: every earlier conversation leaves Redis.
        assert await rt.retention.sweep(now=time.time() + 3600) == EARLIER
        for cid, _ in earlier:
            assert not await rt.store.client.exists(rt.store.keys.conv(cid))

        await cust_ws.send({"type": "message", "text": "今天又来问：发票怎么开", "client_msg_id": msg_id()})
        got = await alice.expect(lambda f: f["type"] == "assigned" and f["messages"][-1]["text"].startswith("今天"))
        live, cust = got["conversation"]["id"], got["conversation"]["customer_id"]

        status, body = await history(http, base, cust, ALICE)
        assert status == 200, body
        assert body["archive"] == "ok"
        convs = body["conversations"]
        assert len(convs) == HISTORY_CONVERSATIONS
        assert convs[0]["id"] == live and convs[0]["archived"] is False and convs[0]["state"] != "closed"
        newest_first = [d for d in reversed(earlier)][:HISTORY_CONVERSATIONS - 1]
        assert [c["id"] for c in convs[1:]] == [cid for cid, _ in newest_first]
        for c, (_, lines) in zip(convs[1:], newest_first, strict=True):
            assert c["archived"] is True and c["state"] == "closed" and c["agent"] == "alice"
            assert [(m["from"], m["text"]) for m in c["transcript"]] == lines
        created = [c["created"] for c in convs]
        assert created == sorted(created, reverse=True)

        assert (await history(http, base, cust, SUE))[0] == 200
        assert (await history(http, base, cust, BOB))[0] == 403  # not bob's customer

        # While the archive is (re)starting the panel still answers from Redis, and says so.
        rt.archive.ready.clear()
        status, body = await history(http, base, cust, ALICE)
        assert status == 200 and body["archive"] == "starting"
        assert [c["id"] for c in body["conversations"]] == [live]
        rt.archive.ready.set()
        await cust_ws.close()
        await alice.close()
