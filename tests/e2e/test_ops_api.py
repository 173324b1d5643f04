"""Live caps (kept over a restart until cleared), the supervisor overview and a supervisor taking
a conversation over."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, msg_id

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}


async def call(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
               body: Any = None) -> tuple[int, Any]:
    async with http.request(method, url, headers=headers, json=body) as r:
        return r.status, await r.json()


async def three_customers(http: aiohttp.ClientSession, base: str) -> list[Socket]:
    out = []
    for i in range(3):
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": f"有货吗 {i}", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "ack")
        out.append(cust)
    return out


async def test_raised_cap_drains_the_queue_at_once(redis_url: str) -> None:
    async with running(basic_settings(cap=1), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        custs = await three_customers(http, base)
        await alice.expect(lambda f: f["type"] == "assigned")
        for c in custs[1:]:
            await c.expect(lambda f: f["type"] == "queue")
        status, body = await call(http, "PUT", f"{base}/api/v1/agents/alice/cap", SUE, {"cap": 3})
        assert status == 200 and body["agent"]["max_chats"] == 3
        # The answer comes after the script ran: the queue is already drained.
        assert body["agent"]["load"] == 3
        assert await rt.store.client.zcard(rt.store.keys.pool_queue("presale")) == 0
        frames = await alice.expect_count(lambda f: f["type"] == "assigned", 3)
        assert len({f["conversation"]["id"] for f in frames}) == 3
        cap = await alice.expect(lambda f: f["type"] == "cap")
        assert (cap["cap"], cap["previous"]) == (3, 1)
        # Lowering takes nothing away; it only stops new work.
        status, body = await call(http, "PUT", f"{base}/api/v1/agents/alice/cap", SUE, {"cap": 0})
        assert status == 200 and body["agent"]["load"] == 3 and body["agent"]["max_chats"] == 0
        for c in [alice, *custs]:
            await c.close()


@pytest.mark.parametrize(("who", "body", "status", "code"), [
    (ALICE, {"cap": 3}, 403, "unauthorized"),
    (SUE, {"cap": 101}, 400, "bad_request"),
    (SUE, {"cap": -1}, 400, "bad_request"),
    (SUE, {"cap": 2.5}, 400, "bad_request"),
    (ALICE, {"cap": None}, 403, "unauthorized"),
    (SUE, {"cap": True}, 400, "bad_request"),
    (SUE, {"cap": "3"}, 400, "bad_request"),
    (SUE, {}, 400, "bad_request"),
    (SUE, [3], 400, "bad_request"),
])
async def test_bad_cap_is_refused_and_nothing_changes(redis_url: str, who: dict[str, str], body: Any,
                                                      status: int, code: str) -> None:
    async with running(basic_settings(cap=1), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        keys = (rt.store.keys.agent("alice"), rt.store.keys.cap_overrides)
        before = [await rt.store.client.hgetall(k) for k in keys]
        got, answer = await call(http, "PUT", f"{base}/api/v1/agents/alice/cap", who, body)
        assert (got, answer["error"]) == (status, code) and answer["detail"]
        assert [await rt.store.client.hgetall(k) for k in keys] == before
        for method, sent in (("PUT", {"cap": 2}), ("PUT", {"cap": None}), ("DELETE", None)):
            got, answer = await call(http, method, f"{base}/api/v1/agents/nobody/cap", SUE, sent)
            assert (got, answer["error"]) == (404, "unknown_agent")
        got, answer = await call(http, "DELETE", f"{base}/api/v1/agents/alice/cap", ALICE)
        assert (got, answer["error"]) == (403, "unauthorized")
        assert [await rt.store.client.hgetall(k) for k in keys] == before


def caps(view: dict[str, Any]) -> tuple[int, int, int | None]:
    """The cap in force, the config's, and the live override, as an agent view shows them."""
    return view["max_chats"], view["cap_configured"], view["cap_override"]


async def test_a_live_cap_survives_a_restart_until_cleared(redis_url: str) -> None:
    async with running(basic_settings(cap=1), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        status, body = await call(http, "PUT", f"{base}/api/v1/agents/alice/cap", SUE, {"cap": 3})
        assert status == 200 and caps(body["agent"]) == (3, 1, 3)
    # The same Redis, a new runtime, and the config's cap changed meanwhile: the override stands.
    async with running(basic_settings(cap=2), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        assert await rt.store.client.hget(rt.store.keys.agent("alice"), "cap") == "3"  # what the scripts read
        status, body = await call(http, "GET", f"{base}/api/v1/supervisor/overview", SUE)
        by_id = {a["id"]: a for a in body["agents"]}
        assert (by_id["alice"]["cap"], by_id["alice"]["cap_configured"], by_id["alice"]["cap_override"]) == (3, 2, 3)
        assert (by_id["bob"]["cap"], by_id["bob"]["cap_configured"], by_id["bob"]["cap_override"]) == (2, 2, None)
        alice = await agent(http, base, "alice-token-1234")
        # Clearing puts the config's cap back in force, and the agent is told.
        status, body = await call(http, "DELETE", f"{base}/api/v1/agents/alice/cap", SUE)
        assert status == 200 and caps(body["agent"]) == (2, 2, None)
        frame = await alice.expect(lambda f: f["type"] == "cap")
        assert (frame["cap"], frame["previous"], frame["configured"], frame["override"]) == (2, 3, 2, None)
        # `"cap": null` clears too.
        status, body = await call(http, "PUT", f"{base}/api/v1/agents/bob/cap", SUE, {"cap": 4})
        assert status == 200 and caps(body["agent"]) == (4, 2, 4)
        status, body = await call(http, "PUT", f"{base}/api/v1/agents/bob/cap", SUE, {"cap": None})
        assert status == 200 and caps(body["agent"]) == (2, 2, None)
        await alice.close()
    async with running(basic_settings(cap=2), redis_url) as (rt, _base):
        for aid in ("alice", "bob"):
            view = await rt.store.agents.get(aid)
            assert view is not None and caps(view.view()) == (2, 2, None)


async def test_overview_shows_queues_agents_and_a_supervisor_takes_over(redis_url: str) -> None:
    async with running(basic_settings(cap=1), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        custs = await three_customers(http, base)
        first = await alice.expect(lambda f: f["type"] == "assigned")
        cid = first["conversation"]["id"]
        for c in custs[1:]:  # an ack means accepted, not yet routed: wait until both are queued
            await c.expect(lambda f: f["type"] == "queue")
        status, ov = await call(http, "GET", f"{base}/api/v1/supervisor/overview", SUE)
        assert status == 200
        presale = next(p for p in ov["pools"] if p["id"] == "presale")
        assert presale["queued"] == 2 and presale["longest_wait_s"] >= 0
        by_id = {a["id"]: a for a in ov["agents"]}
        assert (by_id["alice"]["status"], by_id["alice"]["load"], by_id["alice"]["cap"]) == ("online", 1, 1)
        assert by_id["bob"]["status"] == "offline" and ov["breaches"] == [] and ov["approvals_pending"] == 0
        assert (await call(http, "GET", f"{base}/api/v1/supervisor/overview", ALICE))[0] == 403

        # Sue takes Alice's conversation over through the API; Alice's slot takes the next one.
        sue = await agent(http, base, "sue-token-12345")
        status, body = await call(http, "POST", f"{base}/api/v1/conversations/{cid}/transfer", SUE,
                                  {"to_agent": "sue", "note": "VIP, I will handle it"})
        assert status == 200 and (body["outcome"], body["to"]) == ("assigned", "sue")
        taken = await sue.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        # The note travels with the chat, in the transcript and to Sue: the transfer step owes it
        # and the timer runner writes it just after, so it is inside the assigned frame when it
        # was written before the frame was built, else live, once either way.
        in_frame = [m for m in taken["messages"] if m.get("note")]
        if not in_frame:
            await sue.expect(lambda f: f["type"] == "message" and f["message"].get("note"))
        _, view = await call(http, "GET", f"{base}/api/v1/conversations/{cid}", SUE)
        [n] = [m for m in view["messages"] if m.get("note")]
        assert n["text"] == "sue transferred this conversation to sue: VIP, I will handle it"
        live = [f for f in sue.of("message") if f["message"]["id"] == n["id"]]
        assert [m["id"] for m in in_frame] + [f["message"]["id"] for f in live] == [n["id"]]
        await alice.expect(lambda f: f["type"] == "unassigned" and f["conversation_id"] == cid)
        await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != cid)
        # Alice cannot move Sue's conversation back; Sue can take one by WebSocket too.
        status, body = await call(http, "POST", f"{base}/api/v1/conversations/{cid}/transfer", ALICE,
                                  {"to_agent": "alice"})
        assert status == 409 and body["error"] == "not_assigned_to_you"
        status, body = await call(http, "POST", f"{base}/api/v1/conversations/nope/transfer", SUE,
                                  {"to_agent": "alice"})
        assert status == 404 and body["error"] == "unknown_conversation"
        alices = (await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != cid))
        other = alices["conversation"]["id"]
        await sue.send({"type": "transfer", "conversation_id": other, "to_agent": "sue"})
        done = await sue.expect(lambda f: f["type"] == "transferred" and f["conversation_id"] == other)
        assert (done["outcome"], done["to"]) == ("assigned", "sue")
        for c in [alice, sue, *custs]:
            await c.close()


async def test_status_api_role_rules_and_offline_hands_over(redis_url: str) -> None:
    async with running(basic_settings(cap=2), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        custs = await three_customers(http, base)
        await alice.expect_count(lambda f: f["type"] == "assigned", 2)
        await custs[2].expect(lambda f: f["type"] == "queue")  # the third waits (routed in order)
        bob = {"Authorization": "Bearer bob-token-12345"}
        status, body = await call(http, "POST", f"{base}/api/v1/agents/alice/status", bob, {"status": "offline"})
        assert (status, body["error"]) == (403, "unauthorized")
        assert (await rt.store.agents.get("alice")).status == "online"
        status, _ = await call(http, "POST", f"{base}/api/v1/agents/bob/status", bob, {"status": "away"})
        assert status == 200 and (await rt.store.agents.get("bob")).status == "away"
        status, body = await call(http, "POST", f"{base}/api/v1/agents/alice/status", SUE, {"status": "offline"})
        assert status == 200 and body["agent"]["status"] == "offline" and body["agent"]["load"] == 0
        _, listed = await call(http, "GET", f"{base}/api/v1/handovers", SUE)
        assert sorted(h["reason"] for h in listed["handovers"]) == ["api", "api"]
        # Bob is away: he takes nothing; the two chats wait at the front, ahead of the third.
        assert all(h["to"] is None and not h["cleared"] for h in listed["handovers"])
        queue = await rt.store.client.zrange(rt.store.keys.pool_queue("presale"), 0, -1)
        assert len(queue) == 3 and set(queue[:2]) == {h["conversation_id"] for h in listed["handovers"]}
        for c in [alice, *custs]:
            await c.close()
