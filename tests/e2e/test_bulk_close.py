"""Bulk close (issue 19): one request closes a few hundred chats, each once, each as a single close
would (the customer hears `closed` and the widget asks for a rating; the archive gets one row),
with a result per chat: someone else's chat, an unknown id and an already closed one are named
and the rest go on. A malformed request closes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, msg_id

CUSTOMERS = 200


async def open_chats(http: aiohttp.ClientSession, base: str, n: int) -> list[Socket]:
    socks = [s for s, _ in await asyncio.gather(*(customer(http, base) for _ in range(n)))]
    await asyncio.gather(*(s.send({"type": "message", "text": f"订单问题 {i}", "client_msg_id": msg_id()})
                           for i, s in enumerate(socks)))
    return socks


async def bulk(http: aiohttp.ClientSession, base: str, token: str, body: dict[str, Any],
               status: int = 200) -> dict[str, Any]:
    async with http.post(f"{base}/api/v1/conversations/bulk-close", json=body,
                         headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == status, (body, await r.text())
        out: dict[str, Any] = await r.json()
        return out


async def test_one_request_closes_hundreds_each_once_with_a_result_per_chat(redis_url: str) -> None:
    async with running(basic_settings(cap=100), redis_url) as (rt, base), aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        alice = await agent(http, base, "alice-token-1234")
        bob = await agent(http, base, "bob-token-12345")
        custs = await open_chats(http, base, CUSTOMERS)
        hers = [str(f["conversation"]["id"]) for f in await alice.expect_count(
            lambda f: f["type"] == "assigned", 100, timeout=60)]
        his = [str(f["conversation"]["id"]) for f in await bob.expect_count(
            lambda f: f["type"] == "assigned", 100, timeout=60)]
        everyone = hers + his
        assert len(set(everyone)) == CUSTOMERS

        # Malformed: refused whole, nothing closed.
        for bad in ({"ids": []}, {"ids": "c_1"}, {"ids": [hers[0], 3]}, {"ids": ["x"] * 501},
                    {"ids": [hers[0]], "resolution": ""}):
            assert (await bulk(http, base, "alice-token-1234", bad, 400))["detail"]
        assert all(c.state.value == "assigned" for c in await rt.store.conversations.many(everyone))

        # An agent closes their own: an id twice, bob's chat and an unknown one are named.
        unknown = "c_00000000000000000000"
        mine = await bulk(http, base, "alice-token-1234", {"ids": [*hers[:60], hers[0], his[0], unknown]})
        by_id = {r["id"]: r for r in mine["results"]}
        assert len(mine["results"]) == 62 and mine["closed"] == 60 and mine["failed"] == 2
        assert by_id[his[0]]["error"] == "not_assigned_to_you"
        assert by_id[unknown]["error"] == "unknown_conversation"
        assert (await rt.store.conversations.get(his[0])).state.value == "assigned"  # type: ignore[union-attr]

        # A supervisor closes the rest with two overlapping requests at once.
        rest = hers[60:] + his
        a, b = await asyncio.gather(bulk(http, base, "sue-token-12345", {"ids": rest[:100]}),
                                    bulk(http, base, "sue-token-12345", {"ids": rest[70:]}))
        assert {r["id"] for r in a["results"] + b["results"] if r["ok"]} == set(rest)
        overlap = [r for r in a["results"] + b["results"] if r["id"] in set(rest[70:100])]
        assert sum(r["ok"] for r in overlap) == 30
        assert all(r["ok"] or r["error"] == "already_closed" for r in overlap)

        # Each customer heard `closed` once (the widget's rating request); each agent once a chat.
        for s in custs:
            await s.expect(lambda f: f["type"] == "closed", timeout=20)
        await alice.expect_count(lambda f: f["type"] == "closed", 100, timeout=30)
        await bob.expect_count(lambda f: f["type"] == "closed", 100, timeout=30)
        await asyncio.sleep(0.5)
        assert all(len(s.of("closed")) == 1 for s in custs)
        for sock in (alice, bob):
            ids = [f["conversation_id"] for f in sock.of("closed")]
            assert len(ids) == len(set(ids)) == 100
        assert all(c.state.value == "closed" for c in await rt.store.conversations.many(everyone))
        for aid in ("alice", "bob"):
            now = await rt.store.agents.get(aid)
            assert now is not None and now.load == 0
        for s in [*custs, alice, bob]:
            await s.close()
