"""An agent's console dies: past the grace period their chats go to someone else, with a note, and
the customer is told once on their own channel. Coming back in time, or being connected to another
process, keeps everything as it was."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer, msg_id
from helpers.fake_telegram import fake_telegram

from router.config.settings import Settings, parse_settings
from tests.adapters.support import TG_SECRET

SUE = {"Authorization": "Bearer sue-token-12345"}
LEFT_TEXT = "客服已离开，正在为您转接"


def settings(grace: float, extra: str = "") -> Settings:
    return parse_settings(BASIC.format(cap=2) + f"ops:\n  disconnect_grace_s: {grace}\n"
                          f"  agent_left_text: {LEFT_TEXT}\n" + extra, "<test>")


async def webchat_to_alice(http: aiohttp.ClientSession, base: str, alice: Socket) -> tuple[Socket, str]:
    cust, _ = await customer(http, base)
    await cust.send({"type": "message", "text": "这件有M码吗", "client_msg_id": msg_id()})
    frame = await alice.expect(lambda f: f["type"] == "assigned")
    return cust, frame["conversation"]["id"]


async def get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url, headers=SUE) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_dropped_past_grace_goes_to_another_agent_with_note_and_customer_told(redis_url: str) -> None:
    async with running(settings(0.5), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, cid = await webchat_to_alice(http, base, alice)
        bob = await agent(http, base, "bob-token-12345")
        dropped_at = time.monotonic()
        await alice.close()

        got = await bob.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        assert time.monotonic() - dropped_at >= 0.5  # not before the grace period
        assert got["conversation"]["agent"] == "bob"
        # Web chat pages show the agent_left frame as a notice; no second text through the outbox.
        await cust.expect(lambda f: f["type"] == "agent_left" and f["reason"] == "agent_disconnected")
        await cust.expect(lambda f: f["type"] == "agent" and f["agent"]["id"] == "bob")

        # Bob sees the note, in the assigned frame or right after it.
        await bob.expect(lambda f: any(m.get("note") for m in f.get("messages", []))
                         or (f["type"] == "message" and f["message"].get("note")))
        body = await get(http, f"{base}/api/v1/conversations/{cid}")
        notes = [m for m in body["messages"] if m.get("note")]
        assert len(notes) == 1 and "Alice lost connection" in notes[0]["text"] and "bob" in notes[0]["text"]
        assert (await rt.store.agents.get("alice")).status == "offline"  # type: ignore[union-attr]

        handovers = (await get(http, f"{base}/api/v1/handovers"))["handovers"]
        assert [(h["conversation_id"], h["from"], h["to"], h["reason"], h["cleared"]) for h in handovers] == [
            (cid, "alice", "bob", "agent_disconnected", True)]

        # Told once: running the follow-up again for the same handover writes nothing new.
        await asyncio.sleep(0.3)
        await rt.handovers.fire("again", {"kind": "handover", "handover": handovers[0]}, time.time())
        await asyncio.sleep(0.5)
        assert len(cust.of("agent_left")) == 1 and not [f for f in cust.of("message") if f["message"]["from"] == "system"]
        body = await get(http, f"{base}/api/v1/conversations/{cid}")
        assert len([m for m in body["messages"] if m.get("note")]) == 1
        for s in (bob, cust):
            await s.close()


async def test_reconnect_within_grace_keeps_the_chats(redis_url: str) -> None:
    async with running(settings(1.5), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, cid = await webchat_to_alice(http, base, alice)
        await agent(http, base, "bob-token-12345")
        await alice.close()
        await asyncio.sleep(0.3)
        again = await agent(http, base, "alice-token-1234")
        snap = await again.expect(lambda f: f["type"] == "assigned")
        assert snap["conversation"]["id"] == cid
        await asyncio.sleep(2.0)  # well past the grace of the first socket
        conv = await rt.store.conversations.get(cid)
        assert conv and conv.agent == "alice" and conv.state == "assigned"
        assert (await rt.store.agents.get("alice")).status == "online"  # type: ignore[union-attr]
        assert not cust.of("agent_left") and not again.of("unassigned")
        assert (await get(http, f"{base}/api/v1/handovers"))["handovers"] == []
        await again.close()
        await cust.close()


async def test_agent_on_another_process_is_not_taken_offline(redis_url: str) -> None:
    s = settings(0.5)
    async with running(s, redis_url) as (rt1, base1), running(s, redis_url) as (_rt2, base2), \
            aiohttp.ClientSession() as http:
        here = await agent(http, base1, "alice-token-1234")
        there = await agent(http, base2, "alice-token-1234")
        cust, cid = await webchat_to_alice(http, base1, here)
        await there.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        await here.close()
        await asyncio.sleep(1.5)
        conv = await rt1.store.conversations.get(cid)
        assert conv and conv.agent == "alice"
        assert (await rt1.store.agents.get("alice")).status == "online"  # type: ignore[union-attr]
        assert not cust.of("agent_left")
        # The last socket going too does end it, from whichever process held it.
        await there.close()
        await cust.expect(lambda f: f["type"] == "agent_left", timeout=5)
        conv = await rt1.store.conversations.get(cid)
        assert conv and conv.state == "queued" and conv.agent is None
        await cust.close()


TELEGRAM = """
channels:
  telegram:
    - bot: shopbot
      token: {token}
      secret_token: {secret}
      api_base: {base}
"""


async def test_telegram_customer_gets_one_text_when_their_agent_goes(redis_url: str) -> None:
    async with fake_telegram() as tg:
        s = settings(0.3, TELEGRAM.format(token=tg.token, secret=TG_SECRET, base=tg.base))
        async with running(s, redis_url) as (rt, base), aiohttp.ClientSession() as http:
            alice = await agent(http, base, "alice-token-1234")
            update = {"update_id": 1, "message": {
                "message_id": 1, "date": int(time.time()), "chat": {"id": 777, "type": "private"},
                "from": {"id": 777, "is_bot": False, "first_name": "Ivan"}, "text": "hello"}}
            async with http.post(f"{base}/webhooks/telegram/shopbot", json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
                assert r.status == 200
            await alice.expect(lambda f: f["type"] == "assigned")
            # Going offline by hand hands over as a dropped socket does.
            await alice.send({"type": "status", "status": "offline"})
            await alice.expect(lambda f: f["type"] == "unassigned" and f["reason"] == "agent_set")
            for _ in range(50):
                if tg.sent_to(777):
                    break
                await asyncio.sleep(0.1)
            assert tg.sent_to(777) == [LEFT_TEXT]
            # Running the follow-up again for the same handover sends nothing more.
            handovers = (await get(http, f"{base}/api/v1/handovers"))["handovers"]
            await rt.handovers.fire("again", {"kind": "handover", "handover": handovers[0]}, time.time())
            await asyncio.sleep(0.5)
            assert tg.sent_to(777) == [LEFT_TEXT]
            await alice.close()


async def test_agent_whose_process_died_is_handed_over_after_the_grace(redis_url: str) -> None:
    async with running(settings(0.3), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, cid = await webchat_to_alice(http, base, alice)
        # What a killed process leaves behind: Alice online, her chat, and a presence entry
        # that nobody refreshes any more (this process's own socket is gone without a trace).
        rt.hub.agents.pop("alice", None)
        k = rt.store.keys.agent_presence("alice")
        await rt.store.client.delete(k)
        await rt.store.client.hset(k, "deadprocess", time.time() + 0.2)
        await rt.roster.sweep_presence()  # not yet stale: nothing starts
        await asyncio.sleep(0.6)
        conv = await rt.store.conversations.get(cid)
        assert conv and conv.agent == "alice"
        await rt.roster.sweep_presence()  # stale now: the grace starts, then the handover
        await cust.expect(lambda f: f["type"] == "agent_left", timeout=5)
        assert (await rt.store.agents.get("alice")).status == "offline"
        await alice.close()
        await cust.close()
