"""Search over archived and live conversations (order numbers, phone tails, Chinese words), each
agent only their own; conversation views with cursor paging. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer
from helpers.traffic import chat, close

from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}
BOB = {"Authorization": "Bearer bob-token-12345"}


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=20).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 86400
  sweep_interval_s: 3600
""", "<test>")


async def archived(rt: Runtime, n: int) -> None:
    await asyncio.wait_for(rt.archive.ready.wait(), 30)
    deadline = time.monotonic() + 60
    while await rt.archive.count() < n:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def get(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with http.get(url, headers=headers) as r:
        return r.status, await r.json()


async def test_search_and_views(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        closed: dict[str, str] = {}
        talks = {
            "order": (["订单2024112000012345还没发货"], ["亲，马上催"]),
            "phone": (["我的手机号13912348837，请回电"], ["好的"]),
            "tracking": (["快递单号是多少"], ["稍等"]),
            # Closed after the ones that leave Redis, so the newest archive rows are ones Redis
            # still holds: the archive phase must read past them to fill a page.
            "broken": (["快递到了，杯子破损了"], ["给您补发"]),
        }
        for name, (lines, answers) in talks.items():
            cust, _ = await customer(http, base)
            cid = await chat(cust, alice, lines, answers)
            await close(alice, cust, cid)
            closed[name] = cid
            await cust.close()
        await alice.close()
        bob = await agent(http, base, "bob-token-12345")
        cust, _ = await customer(http, base)
        closed["refund"] = await chat(cust, bob, ["我要退款，订单2024112000099999"], ["已受理"])
        await close(bob, cust, closed["refund"])
        await bob.close()
        await archived(rt, 5)
        # Three of them leave Redis; the archive answers for those.
        for cid in (closed["order"], closed["phone"], closed["tracking"]):
            await rt.store.call("purge", [cid, time.time() + 1])
        await rt.retention.finish()
        assert not await rt.store.client.exists(rt.store.keys.conv(closed["order"]))

        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        live = await chat(cust, alice, ["发票怎么开"], [])

        async def ids(q: str, headers: dict[str, str]) -> list[str]:
            status, body = await get(http, f"{base}/api/v1/search?q={q}", headers)
            assert status == 200, body
            return [r["conversation_id"] for r in body["results"]]

        assert await ids("2024112000012345", SUE) == [closed["order"]]
        assert await ids("8837", SUE) == [closed["phone"]]
        assert await ids("破损", SUE) == [closed["broken"]]
        assert await ids("杯子 破损", SUE) == [closed["broken"]]
        assert await ids("破损 退款", SUE) == []
        # Alone, jieba cuts 快递单号 into 快递 + 单 + 号, in the sentence into 快递 + 单号: still found.
        assert await ids("快递单号", SUE) == [closed["tracking"]]
        assert await ids("单号", SUE) == [closed["tracking"]]
        assert await ids("退款", SUE) == [closed["refund"]]
        assert await ids("退款", ALICE) == []  # bob's, not hers
        assert await ids("发票", ALICE) == [live]
        status, body = await get(http, f"{base}/api/v1/search?q=8837", SUE)
        hit = body["results"][0]
        assert hit["archived"] is True and "13912348837" in hit["snippet"] and hit["channel"] == "webchat"
        assert set(hit) >= {"conversation_id", "customer_id", "channel", "snippet", "ts"}
        for bad in ("", "?q=", "?q=x&from=2024-13-01", "?q=x&from=2024-12-02&to=2024-12-01", "?q=x&limit=0"):
            status, body = await get(http, f"{base}/api/v1/search{bad}", SUE)
            assert status == 400, (bad, body)

        # Views: closed pages through Redis and the archive, each conversation once.
        seen: list[str] = []
        url = f"{base}/api/v1/conversations?view=closed&limit=1"
        for _ in range(10):
            status, body = await get(http, url, SUE)
            assert status == 200, body
            seen += [c["id"] for c in body["conversations"]]
            if not body["next_cursor"]:
                break
            assert len(body["conversations"]) == 1, body  # a page is short only at the end
            url = f"{base}/api/v1/conversations?view=closed&limit=1&cursor={body['next_cursor']}"
        assert sorted(seen) == sorted(closed.values()), seen
        status, body = await get(http, f"{base}/api/v1/conversations?view=mine&limit=50", ALICE)
        mine = [c["id"] for c in body["conversations"]]
        assert mine[0] == live and sorted(mine[1:]) == sorted(closed[n] for n in ("order", "phone", "broken", "tracking"))
        status, body = await get(http, f"{base}/api/v1/conversations?view=open", SUE)
        assert [c["id"] for c in body["conversations"]] == [live]
        status, body = await get(http, f"{base}/api/v1/conversations?view=unassigned", SUE)
        assert body["conversations"] == []
        status, body = await get(http, f"{base}/api/v1/conversations?view=all&limit=200", SUE)
        assert sorted(c["id"] for c in body["conversations"]) == sorted([live, *closed.values()])
        for bad in ("view=everything", "cursor=zz", "limit=x"):
            status, _ = await get(http, f"{base}/api/v1/conversations?{bad}", SUE)
            assert status == 400, bad
        await alice.close()
        await cust.close()
