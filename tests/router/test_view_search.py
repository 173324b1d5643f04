"""`GET /api/v1/conversations?view=...&q=...` (the protocol's view search): a view's
conversations that hold every word of q, live and archived alike, narrowed by the view, its
filters and who asks; 200 conversations, 100 of them only in the archive."""

from __future__ import annotations

import time

import aiohttp
from helpers.app import BASIC, running
from helpers.archive import wait_archived
from helpers.clients import agent, customer, msg_id
from helpers.traffic import chat, many

from router.config.settings import Settings, parse_settings

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}
BOB = {"Authorization": "Bearer bob-token-12345"}
SEEDED = 200
PURGED = 100


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=100).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 86400
  sweep_interval_s: 3600
""", "<test>")


async def _ids(http: aiohttp.ClientSession, base: str, query: str, who: dict[str, str]) -> list[str]:
    async with http.get(f"{base}/api/v1/conversations?{query}", headers=who) as r:
        body = await r.json()
        assert r.status == 200, body
    assert body["next_cursor"] is None  # a search is one page
    return [c["id"] for c in body["conversations"]]


async def test_a_view_searched_by_words_live_and_archived(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        done = await many(http, base, alice, SEEDED, 40)
        await wait_archived(rt, SEEDED)
        by_n = {int(d.lines[0][1][10:18]): d for d in done}  # 订单20241120{n:08d}…
        for n in range(PURGED):
            await rt.store.call("purge", [by_n[n].cid, time.time() + 1])
        await rt.retention.finish()
        assert not await rt.store.client.exists(rt.store.keys.conv(by_n[7].cid))
        # One still open, with words of its own.
        shopper, _ = await customer(http, base)
        open_cid = await chat(shopper, alice, ["羽绒服 订单2024112099999999 还没发货"], ["马上查"])

        archived_only, in_redis = by_n[7].cid, by_n[150].cid
        assert await _ids(http, base, "view=closed&q=2024112000000007", SUE) == [archived_only]
        assert await _ids(http, base, "view=all&q=2024112000000150", SUE) == [in_redis]
        assert await _ids(http, base, "view=open&q=2024112000000150", SUE) == []  # closed: not open
        assert await _ids(http, base, "view=open&q=羽绒服", SUE) == [open_cid]
        assert await _ids(http, base, "view=all&q=羽绒服&channel=wechat", SUE) == []  # filters narrow it
        assert await _ids(http, base, "view=mine&q=2024112000000007", ALICE) == [archived_only]
        assert await _ids(http, base, "view=mine&q=2024112000000007", BOB) == []  # not bob's
        common = await _ids(http, base, "view=closed&q=发货&limit=30", SUE)
        assert len(common) == 30 and len(set(common)) == 30
        for bad in ("q=" + "长" * 201, "q=%20%21%21"):
            async with http.get(f"{base}/api/v1/conversations?view=all&{bad}", headers=SUE) as r:
                assert r.status == 400
                assert (await r.json())["error"] == "bad_query"
        await shopper.send({"type": "message", "text": "好的", "client_msg_id": msg_id()})
        for sock in (alice, shopper):
            await sock.close()
