"""Waiting for the customer (issue 19): an agent parks a chat; it stays theirs and on their load,
its response clocks pause (no breach however long it waits, the time left kept), and it wakes
when the customer writes, when its time comes, or when the agent takes it back. Only the owner
may park it; a time in the past is refused."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from helpers.app import running
from helpers.clients import Socket, agent, customer, msg_id

from router.config.settings import Settings, parse_settings

CONFIG = """
pools:
  - id: presale
agents:
  - {id: alice, name: Alice, token: alice-token-1234, pools: [presale], max_chats: 5}
  - {id: bob, name: Bob, token: bob-token-12345, pools: [presale], max_chats: 5}
routing:
  rules: rules.yaml
sla:
  profiles: sla.yaml
  timer_max_sleep_s: 0.05
  timer_lease_s: 1
worker:
  claim_idle_ms: 1000
"""
RULES = "default: {pool: presale, sla: quick}\nrules: []\n"
PROFILES = """
profiles:
  quick:
    first_response: 1.5s
    next_response: 1.5s
"""


def settings(tmp_path: Path) -> Settings:
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "sla.yaml").write_text(PROFILES)
    return parse_settings(CONFIG, "<test>", base_dir=str(tmp_path))


def said(sock: Socket, cid: str, waiting: bool) -> list[dict[str, object]]:
    return [f for f in sock.of("waiting") if f["conversation_id"] == cid and f["waiting"] is waiting]


async def test_a_parked_chat_pauses_its_clock_and_wakes_on_the_customer_the_time_or_the_agent(
        redis_url: str, tmp_path: Path) -> None:
    async with running(settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper, _ = await customer(http, base)
        await shopper.send({"type": "message", "text": "这件有 XL 吗", "client_msg_id": msg_id()})
        cid = str((await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"])
        bob = await agent(http, base, "bob-token-12345")

        # Only the owner parks it; a time in the past is refused.
        await bob.send({"type": "wait", "conversation_id": cid})
        err = await bob.expect(lambda f: f["type"] == "error")
        assert err["code"] == "not_assigned_to_you"
        for bad in (time.time() - 5, "soon", True, time.time() + 40 * 86400):
            await alice.send({"type": "wait", "conversation_id": cid, "until": bad})
        await alice.expect_count(lambda f: f["type"] == "error" and f["code"] == "bad_frame", 4)

        # Parked before the first answer: 3 s pass (the target is 1.5 s) and nothing breaches.
        await alice.send({"type": "wait", "conversation_id": cid})
        await alice.expect(lambda f: f["type"] == "waiting" and f["waiting"] is True)
        conv = await rt.store.conversations.get(cid)
        assert conv is not None and conv.waiting and conv.waiting_until is None
        assert conv.sla["state"] == "paused"
        left = conv.sla["paused"]["first"]
        assert 0.5 < left <= 1.5
        agent_now = await rt.store.agents.get("alice")
        assert agent_now is not None and agent_now.load == 1  # still hers, still on her load
        await asyncio.sleep(3.0)
        assert not [f for f in alice.of("sla") if f.get("event") == "breached"]

        # The customer writes: it wakes (why: customer), the clock goes on with what was left.
        await shopper.send({"type": "message", "text": "在吗？", "client_msg_id": msg_id()})
        woke = await alice.expect(lambda f: f["type"] == "waiting" and f["waiting"] is False)
        assert woke["reason"] == "customer"
        await alice.expect(lambda f: f["type"] == "message" and f["conversation_id"] == cid
                           and f["message"]["text"] == "在吗？")
        conv = await rt.store.conversations.get(cid)
        assert conv is not None and not conv.waiting and conv.sla["state"] == "due"
        assert conv.sla["first_response_due"] - time.time() <= left + 0.1
        await alice.send({"type": "reply", "conversation_id": cid, "text": "有的", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "ack")

        # Parked until a time: it wakes by itself (why: timer) even with the customer silent.
        until = time.time() + 1.0
        await alice.send({"type": "wait", "conversation_id": cid, "until": until})
        parked = await alice.expect(lambda f: f["type"] == "waiting" and f["waiting"] is True
                                    and f.get("until") is not None)
        assert abs(parked["until"] - until) < 0.01
        timed = await alice.expect(lambda f: f["type"] == "waiting" and f["waiting"] is False
                                   and f["reason"] == "timer", timeout=10)
        assert time.time() >= until - 0.05 and timed["conversation_id"] == cid

        # Taken back by the agent.
        await alice.send({"type": "wait", "conversation_id": cid})
        await alice.expect_count(lambda f: f["type"] == "waiting" and f["waiting"] is True, 2)
        await alice.send({"type": "unwait", "conversation_id": cid})
        back = await alice.expect(lambda f: f["type"] == "waiting" and f["waiting"] is False
                                  and f["reason"] == "agent")
        assert back["conversation_id"] == cid
        conv = await rt.store.conversations.get(cid)
        assert conv is not None and not conv.waiting
        # A reconnecting console sees the state in the snapshot.
        await alice.send({"type": "wait", "conversation_id": cid})
        await alice.expect_count(lambda f: f["type"] == "waiting" and f["waiting"] is True, 3)
        again = await agent(http, base, "alice-token-1234")
        snap = await again.expect(lambda f: f["type"] == "assigned")
        assert snap["conversation"]["waiting"] is True
        for s in (alice, again, bob, shopper):
            await s.close()
