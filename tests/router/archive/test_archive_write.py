"""The archive: a close is written to SQL with everything about the conversation, once per
version; retention then drops it from Redis and the API answers from the archive. The same tests
run on SQLite and on a private PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from helpers.traffic import chat, close

from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}


def settings(archive_url: str, reopen_window_s: float = 600, after_close_s: float = 86400) -> Settings:
    return parse_settings(BASIC.format(cap=5) + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: {after_close_s}
  sweep_interval_s: 3600
""".replace("worker:\n", f"worker:\n  reopen_window_s: {reopen_window_s}\n"), "<test>")


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def archived_version(rt: Runtime, cid: str) -> int | None:
    await asyncio.wait_for(rt.archive.ready.wait(), 30)
    return await rt.archive.version(cid)


async def test_a_close_is_archived_whole_and_served_after_redis_lets_go(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        cid = await chat(cust, alice, ["你好，订单2024112000012345还没发货", "尾号8837"], ["亲，马上为您查询", "已经催发了"])
        await close(alice, cust, cid)
        await until(lambda: archived_version(rt, cid))

        row = await rt.archive.conversation(cid)
        assert row is not None
        assert row["archived"] is True and row["version"] == 1 and row["agent"] == "alice"
        assert row["channel"] == "webchat" and row["pool"] == "presale" and row["resolution"] == "resolved"
        assert [(m["from"], m["text"]) for m in row["messages"]] == [
            ("customer", "你好，订单2024112000012345还没发货"), ("customer", "尾号8837"),
            ("agent", "亲，马上为您查询"), ("agent", "已经催发了")]
        assert all(m.get("delivery", {"status": "sent"})["status"] == "sent" for m in row["messages"])
        assert [e["kind"] for e in row["events"]][-1] == "assigned"
        assert row["first_response_s"] is not None and row["first_response_s"] >= 0
        assert row["decision"]["pool"] == "presale"
        live = await rt.store.conversations.get(cid)
        assert live is not None and live.closed_at == row["closed_at"]

        # Retention: Redis drops everything about it but the customer and their last agent.
        k = rt.store.keys
        cust_id = row["customer_id"]
        assert await rt.retention.sweep(now=time.time() + 86400 + 1) == 1
        for key in (k.conv(cid), k.conv_trail(cid), k.transcript(cid), k.transcript_ids(cid), k.delivery(cid),
                    k.outbound_seq(cid), k.outbound_done(cid)):
            assert not await rt.store.client.exists(key), key
        assert await rt.store.client.hlen(k.archive_purging) == 0
        assert await rt.store.client.hget(k.customer(cust_id), "last_agent") == "alice"
        assert await rt.store.client.scard(k.customer_identities(cust_id)) == 1

        async with http.get(f"{base}/api/v1/conversations/{cid}", headers=ALICE) as r:
            assert r.status == 200
            body = await r.json()
        assert body["archived"] is True and body["conversation"]["archived"] is True
        assert body["conversation"]["state"] == "closed" and body["customer"]["id"] == cust_id
        assert [m["text"] for m in body["messages"]][-1] == "已经催发了"
        async with http.get(f"{base}/api/v1/conversations/{cid}",
                            headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 403  # not bob's
        async with http.get(f"{base}/api/v1/conversations/c_nope", headers=SUE) as r:
            assert r.status == 404


async def test_rerun_writes_nothing_twice_and_a_reclose_updates_the_row(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        cid = await chat(cust, alice, ["在吗"], ["在的"])
        await close(alice, cust, cid)
        await until(lambda: archived_version(rt, cid))

        # The same entry read again (a crash after the commit, before the ack) writes nothing new.
        for _ in range(2):
            await rt.archiver.handle("0-1", {"cid": cid, "v": "1"})
        row = await rt.archive.conversation(cid)
        assert row is not None and row["version"] == 1 and len(row["messages"]) == 2

        # Reopened within the window and closed again: version 2, the row follows.
        start = len(alice.frames)
        await cust.send({"type": "message", "text": "还有一个问题", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid, start=start)
        await close(alice, cust, cid)
        await until(lambda: archived_is(rt, cid, 2))
        row = await rt.archive.conversation(cid)
        assert row is not None and row["reopened"] == 1
        assert [m["text"] for m in row["messages"]] == ["在吗", "在的", "还有一个问题"]
        # An older version arriving late changes nothing.
        assert await rt.archive.count() >= 1
        assert await rt.store.client.xlen(rt.store.keys.archive_queue) == 0


async def archived_is(rt: Runtime, cid: str, v: int) -> bool:
    return await rt.archive.version(cid) == v


async def test_csat_after_close_reaches_the_archive(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        cid = await chat(cust, alice, ["质量不错"], ["谢谢亲"])
        await close(alice, cust, cid)
        await until(lambda: archived_version(rt, cid))
        await cust.send({"type": "csat", "conversation_id": cid, "rating": 5, "comment": "很好"})
        await cust.expect(lambda f: f["type"] == "csat_recorded")
        # The rating queues the conversation again; once written, Redis may let go.
        await until(lambda: csat_archived(rt, cid))
        assert await rt.retention.sweep(now=time.time() + 86400 + 1) == 1
        row = await rt.archive.conversation(cid)
        assert row is not None and row["csat"] == {"rating": 5, "comment": "很好", "at": row["csat"]["at"]}
        assert json.loads(json.dumps(row))  # plain JSON all through


async def csat_archived(rt: Runtime, cid: str) -> bool:
    row = await rt.archive.conversation(cid)
    return row is not None and row["csat"] is not None


async def test_reports_summary_and_export(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url, reopen_window_s=0), redis_url) as (rt, base), \
            aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        t0 = time.time() - 1
        cids = []
        for lines, answers in ((["在吗", "有M码吗"], ["有的"]), (["发货了吗"], ["已发", "单号稍后给您"])):
            cust, _ = await customer(http, base)
            cid = await chat(cust, alice, lines, answers)
            await close(alice, cust, cid)
            cids.append(cid)
            if len(cids) == 1:
                await cust.send({"type": "csat", "conversation_id": cid, "rating": 4})
                await cust.expect(lambda f: f["type"] == "csat_recorded")
        for cid in cids:
            await until(lambda cid=cid: archived_version(rt, cid))
        await until(lambda: csat_archived(rt, cids[0]))
        t1 = time.time() + 1
        q = f"from={t0}&to={t1}"
        async with http.get(f"{base}/api/v1/reports/summary?{q}", headers=SUE) as r:
            assert r.status == 200
            s = await r.json()
        assert s["conversations"] == 2 and s["messages_in"] == 3 and s["messages_out"] == 3
        assert s["csat"] == {"count": 1, "average": 4.0} and s["sla_breaches"] == 0
        assert s["first_response_s"]["p50"] is not None and s["resolution_s"]["p90"] is not None
        assert [a["key"] for a in s["by"]["agent"]] == ["alice"] and s["by"]["channel"][0]["key"] == "webchat"
        async with http.get(f"{base}/api/v1/reports/summary?{q}&agent=bob", headers=SUE) as r:
            assert (await r.json())["conversations"] == 0
        async with http.get(f"{base}/api/v1/reports/export.csv?{q}", headers=SUE) as r:
            assert r.status == 200 and r.content_type == "text/csv"
            lines = (await r.text()).strip().splitlines()
        assert lines[0].startswith("id,customer_id,channel") and len(lines) == 3
        assert {line.split(",")[0] for line in lines[1:]} == set(cids)
        for bad in ("", f"from={t1}&to={t0}", "from=yesterday&to=today"):
            async with http.get(f"{base}/api/v1/reports/summary?{bad}", headers=SUE) as r:
                assert r.status == 400, bad
        async with http.get(f"{base}/api/v1/reports/summary?{q}", headers=ALICE) as r:
            assert r.status == 403
