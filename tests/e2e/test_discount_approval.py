"""Discount approval: within an agent's authority it is approved at once; above it a supervisor
answers, by WebSocket or API, once; the agent hears back and the transcript keeps a note."""

from __future__ import annotations

from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer, msg_id

from router.config.settings import Settings, parse_settings

SUE = {"Authorization": "Bearer sue-token-12345"}
BOB = {"Authorization": "Bearer bob-token-12345"}


def settings() -> Settings:
    # Bob may grant up to 50 yuan; Alice has the shop's default of 20.
    text = BASIC.format(cap=5).replace("    pools: [presale, aftersale]\n",
                                       "    pools: [presale, aftersale]\n    discount_limit: 50\n")
    return parse_settings(text, "<test>")


async def conversation(http: aiohttp.ClientSession, base: str, who: Socket) -> tuple[Socket, str]:
    cust, _ = await customer(http, base)
    await cust.send({"type": "message", "text": "能便宜点吗", "client_msg_id": msg_id()})
    frame = await who.expect(lambda f: f["type"] == "assigned")
    return cust, frame["conversation"]["id"]


async def notes(http: aiohttp.ClientSession, base: str, cid: str) -> list[str]:
    async with http.get(f"{base}/api/v1/conversations/{cid}", headers=SUE) as r:
        return [m["text"] for m in (await r.json())["messages"] if m.get("note")]


async def post(http: aiohttp.ClientSession, url: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
    async with http.post(url, headers=headers, json=body) as r:
        return r.status, await r.json()


async def test_round_trip_above_authority(redis_url: str) -> None:
    async with running(settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        sue = await agent(http, base, "sue-token-12345")
        alice = await agent(http, base, "alice-token-1234")
        cust, cid = await conversation(http, base, alice)
        ask = {"type": "discount_request", "conversation_id": cid, "amount": 35, "reason": "破损补偿",
               "client_msg_id": msg_id()}
        await alice.send(ask)
        pending = await alice.expect(lambda f: f["type"] == "approval")
        assert pending["approval"]["state"] == "pending" and pending["approval"]["amount"] == 35
        req = await sue.expect(lambda f: f["type"] == "approval_request")
        approval = req["approval"]
        assert {k: approval[k] for k in ("agent", "conversation_id", "amount", "reason", "state")} == {
            "agent": "alice", "conversation_id": cid, "amount": 35, "reason": "破损补偿", "state": "pending"}
        # The same request again is the same approval, not a second one.
        await alice.send(ask)
        again = await alice.expect_count(lambda f: f["type"] == "approval", 2)
        assert again[1]["approval"]["id"] == approval["id"]

        async with http.get(f"{base}/api/v1/approvals", headers=SUE) as r:
            listed = (await r.json())["approvals"]
        assert [a["id"] for a in listed] == [approval["id"]]

        # A plain agent may not answer, by WebSocket or API; nothing changes.
        await alice.send({"type": "approval_answer", "id": approval["id"], "approved": True})
        err = await alice.expect(lambda f: f["type"] == "error")
        assert err["code"] == "forbidden"
        status, body = await post(http, f"{base}/api/v1/approvals/{approval['id']}", BOB, {"approved": True})
        assert (status, body["error"]) == (403, "unauthorized")

        await sue.send({"type": "approval_answer", "id": approval["id"], "approved": True, "note": "同意，下不为例"})
        answered = await alice.expect(lambda f: f["type"] == "approval" and f["approval"]["state"] != "pending")
        assert answered["approval"]["state"] == "approved" and answered["approval"]["answered_by"] == "sue"
        assert answered["approval"]["note"] == "同意，下不为例"

        status, body = await post(http, f"{base}/api/v1/approvals/{approval['id']}", SUE, {"approved": False})
        assert (status, body["error"]) == (409, "already_answered")
        await sue.send({"type": "approval_answer", "id": approval["id"], "approved": False})
        assert (await sue.expect(lambda f: f["type"] == "error"))["code"] == "already_answered"
        async with http.get(f"{base}/api/v1/approvals", headers=SUE) as r:
            assert (await r.json())["approvals"] == []
        assert len([f for f in alice.of("approval") if f["approval"]["state"] == "approved"]) == 1
        assert await notes(http, base, cid) == [
            "Discount ¥35 asked by alice (破损补偿): approved by Sue: 同意，下不为例"]
        for s in (sue, alice, cust):
            await s.close()


async def test_within_authority_is_approved_at_once_and_api_rejects(redis_url: str) -> None:
    async with running(settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        sue = await agent(http, base, "sue-token-12345")
        bob = await agent(http, base, "bob-token-12345")
        cust, cid = await conversation(http, base, bob)
        await bob.send({"type": "discount_request", "conversation_id": cid, "amount": 45, "reason": "老客户",
                        "client_msg_id": msg_id()})
        got = await bob.expect(lambda f: f["type"] == "approval")
        assert got["approval"]["state"] == "approved" and got["approval"]["auto"] is True
        assert await notes(http, base, cid) == [
            "Discount ¥45 approved automatically (within Bob's authority of ¥50). Reason: 老客户"]

        # Above Bob's own limit: a supervisor rejects through the API.
        await bob.send({"type": "discount_request", "conversation_id": cid, "amount": 80.5, "reason": "",
                        "client_msg_id": msg_id()})
        req = await sue.expect(lambda f: f["type"] == "approval_request")
        assert len(sue.of("approval_request")) == 1  # the auto-approved one never reached Sue
        status, body = await post(http, f"{base}/api/v1/approvals/{req['approval']['id']}", SUE,
                                  {"approved": False, "note": "太多了"})
        assert status == 200 and body["approval"]["state"] == "rejected"
        back = await bob.expect(lambda f: f["type"] == "approval" and f["approval"]["state"] == "rejected")
        assert back["approval"]["amount"] == 80.5

        # Bad requests are refused and make nothing.
        for bad in ({"amount": -5}, {"amount": "20"}, {"amount": True}, {"conversation_id": "nope"}):
            frame = {"type": "discount_request", "conversation_id": cid, "amount": 10, "reason": "x",
                     "client_msg_id": msg_id(), **bad}
            await bob.send(frame)
        errors = await bob.expect_count(lambda f: f["type"] == "error", 4)
        assert [e["code"] for e in errors] == ["bad_frame", "bad_frame", "bad_frame", "unknown_conversation"]
        assert len(bob.of("approval")) == 3
        status, body = await post(http, f"{base}/api/v1/approvals/ap_nope", SUE, {"approved": True})
        assert (status, body["error"]) == (404, "unknown_approval")
        for s in (sue, bob, cust):
            await s.close()
