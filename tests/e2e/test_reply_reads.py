"""An agent's text reply that every configured channel can deliver is not held up by a read of
which channel its conversation is on (router/web/reply_ws.py, `_deliverable`): at the peak
agents answer hundreds of chats a minute, and that read was a round trip in turn before each."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id

from router.config.settings import parse_settings


async def test_two_hundred_short_replies_read_no_conversation(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = parse_settings(BASIC.format(cap=100) + "rate_limits:\n  enabled: false\nlimits:\n  max_text_chars: 50000\n", "<test>")
    async with running(settings, redis_url) as (rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        alice, bob = await agent(http, base, "alice-token-1234"), await agent(http, base, "bob-token-12345")
        socks = [s for s, _ in await asyncio.gather(*(customer(http, base) for _ in range(200)))]
        await asyncio.gather(*(s.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()}) for s in socks))
        await alice.expect_count(lambda f: f["type"] == "assigned", 100, timeout=60)
        await bob.expect_count(lambda f: f["type"] == "assigned", 100, timeout=60)

        reads: list[str] = []
        read = rt.store.conversation

        async def counted(cid: str) -> dict[str, Any] | None:
            reads.append(cid)
            return await read(cid)

        monkeypatch.setattr(rt.store, "conversation", counted)
        for sock in (alice, bob):
            for f in sock.of("assigned"):
                cid = f["conversation"]["id"]
                await sock.send({"type": "reply", "conversation_id": cid, "text": f"好的 {cid}", "client_msg_id": cid})
        for sock in (alice, bob):
            await sock.expect_count(lambda f: f["type"] == "ack", 100, timeout=60)
        # Every customer has their answer, and no reply read its conversation first.
        got = await asyncio.gather(*(s.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "agent",
                                              timeout=60) for s in socks))
        assert sorted(g["message"]["text"] for g in got) == sorted(
            f"好的 {f['conversation']['id']}" for a in (alice, bob) for f in a.of("assigned"))
        assert reads == []

        # A reply some channel here cannot take is checked against its conversation's (web chat
        # takes 8,000 characters in one message).
        cid = alice.of("assigned")[0]["conversation"]["id"]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "长" * 8001, "client_msg_id": "long"})
        err = await alice.expect(lambda f: f["type"] == "error" and f.get("ref") == "long")
        assert err["code"] == "undeliverable" and "too long for webchat" in err["detail"] and reads == [cid]
        for s in (*socks, alice, bob):
            await s.close()
