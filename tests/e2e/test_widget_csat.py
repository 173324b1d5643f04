"""CSAT: a customer rates a closed conversation once; bad input changes nothing; the report
aggregates per agent."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, msg_id

SUE = {"Authorization": "Bearer sue-token-12345"}


async def _chat_closed_by(http: aiohttp.ClientSession, base: str, who: Socket, text: str) -> tuple[Socket, str, str]:
    """A new customer writes, `who` gets the chat and closes it; returns (customer, token, cid)."""
    cust, token = await customer(http, base)
    await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    start = len(who.frames)
    assigned = await who.expect(lambda f: f["type"] == "assigned", start=start)
    cid = assigned["conversation"]["id"]
    await who.send({"type": "close", "conversation_id": cid})
    await cust.expect(lambda f: f["type"] == "closed" and f["conversation_id"] == cid)
    return cust, token, cid


async def _rate(cust: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    start = len(cust.frames)
    await cust.send({"type": "csat", **frame})
    return await cust.expect(lambda f: f["type"] in ("error", "csat_recorded"), start=start)


async def test_bad_ratings_are_refused_and_nothing_is_stored(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "这件有M码吗", "client_msg_id": msg_id()})
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]

        # Still open: not yet rateable.
        assert (await _rate(cust, {"conversation_id": cid, "rating": 5}))["code"] == "not_closed"
        await alice.send({"type": "close", "conversation_id": cid})
        await cust.expect(lambda f: f["type"] == "closed")

        for bad, code in [
            ({"conversation_id": cid, "rating": 0}, "bad_rating"),
            ({"conversation_id": cid, "rating": 6}, "bad_rating"),
            ({"conversation_id": cid, "rating": "5"}, "bad_rating"),
            ({"conversation_id": cid, "rating": 4.5}, "bad_rating"),
            ({"conversation_id": cid, "rating": True}, "bad_rating"),
            ({"conversation_id": cid}, "bad_rating"),
            ({"rating": 5}, "bad_frame"),
            ({"conversation_id": cid, "rating": 5, "comment": 7}, "bad_frame"),
            ({"conversation_id": cid, "rating": 5, "comment": "x" * 1001}, "too_long"),
            ({"conversation_id": "c_nope", "rating": 5}, "unknown_conversation"),
        ]:
            answer = await _rate(cust, bad)
            assert answer["type"] == "error" and answer["code"] == code, (bad, answer)

        # Somebody else's closed conversation is refused as if it did not exist.
        stranger, _ = await customer(http, base)
        await stranger.send({"type": "message", "text": "hi", "client_msg_id": msg_id()})
        await stranger.expect(lambda f: f["type"] == "ack")
        assert (await _rate(stranger, {"conversation_id": cid, "rating": 1}))["code"] == "unknown_conversation"

        k = rt.store.keys
        assert await rt.store.client.hlen(k.csat) == 0
        assert await rt.store.client.zcard(k.csat_by_time) == 0
        assert await rt.store.client.zcard(k.csat_agent("alice")) == 0

        ok = await _rate(cust, {"conversation_id": cid, "rating": 4, "comment": " 很快 "})
        assert ok == {"type": "csat_recorded", "conversation_id": cid, "rating": 4}
        # Once per conversation: a second rating is refused and the first one stands.
        again = await _rate(cust, {"conversation_id": cid, "rating": 1})
        assert again["code"] == "already_rated"
        async with http.get(f"{base}/api/v1/reports/csat", headers=SUE) as r:
            body = await r.json()
        assert body["overall"] == {"count": 1, "avg": 4.0}
        assert body["conversations"][0]["rating"] == 4 and body["conversations"][0]["comment"] == "很快"
        for s in (alice, cust, stranger):
            await s.close()


async def test_report_per_agent_with_filters(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        c1, token1, cid1 = await _chat_closed_by(http, base, alice, "这件有M码吗")
        c2, _, cid2 = await _chat_closed_by(http, base, alice, "发货了吗")
        await alice.send({"type": "status", "status": "away"})
        await alice.expect(lambda f: f["type"] == "status" and f["status"] == "away")
        bob = await agent(http, base, "bob-token-12345")
        c3, _, cid3 = await _chat_closed_by(http, base, bob, "能便宜点吗")

        before = time.time()
        for cust, cid, rating in ((c1, cid1, 5), (c2, cid2, 4), (c3, cid3, 2)):
            assert (await _rate(cust, {"conversation_id": cid, "rating": rating}))["type"] == "csat_recorded"

        async with http.get(f"{base}/api/v1/reports/csat", headers=SUE) as r:
            assert r.status == 200
            body = await r.json()
        assert body["overall"] == {"count": 3, "avg": 3.67}
        assert body["agents"] == [{"agent": "alice", "count": 2, "avg": 4.5}, {"agent": "bob", "count": 1, "avg": 2.0}]
        assert [c["conversation_id"] for c in body["conversations"]] == [cid3, cid2, cid1]
        assert {c["agent"] for c in body["conversations"]} == {"alice", "bob"}

        async with http.get(f"{base}/api/v1/reports/csat?agent=bob", headers=SUE) as r:
            assert (await r.json())["overall"] == {"count": 1, "avg": 2.0}
        async with http.get(f"{base}/api/v1/reports/csat?since={before - 3600}&until={before - 1}", headers=SUE) as r:
            assert (await r.json()) == {"overall": {"count": 0, "avg": None}, "agents": [], "conversations": []}
        async with http.get(f"{base}/api/v1/reports/csat?since=yesterday", headers=SUE) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_query"
        async with http.get(f"{base}/api/v1/reports/csat",
                            headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 403

        # A page that reconnects after the close learns it from the snapshot, already rated.
        again, _ = await customer(http, base, token=token1)
        snap = await again.expect(lambda f: f["type"] == "conversation")
        assert snap["conversation"] == {"id": cid1, "state": "closed", "rated": True,
                                        "agent": {"id": "alice", "name": "Alice"}, "queue": None, "read": None}
        for s in (alice, bob, c1, c2, c3, again):
            await s.close()


async def test_openapi_describes_the_report() -> None:
    from router.web.openapi import spec

    paths = spec()["paths"]
    assert "get" in paths["/api/v1/reports/csat"]
    assert "post" in paths["/api/v1/webchat/leave-message"]
