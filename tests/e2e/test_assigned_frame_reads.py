"""An `assigned` frame is read in one round trip: the conversation, its customer and the
transcript with delivery states come from one pipeline, and show the same as read one by one
(the console's snapshot does that). An event without the customer's id (emitted by a process of
an earlier version) still gets the customer, with one more round trip."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from helpers.app import basic_settings, running
from helpers.clients import agent, customer, msg_id
from redis.asyncio.connection import AbstractConnection


class Writes:
    """Counts what this process's redis-py connections send: one write is one round trip."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        original = AbstractConnection.send_packed_command

        async def counted(conn: AbstractConnection, command: Any, check_health: bool = True) -> None:
            self.n += 1
            await original(conn, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


async def test_hundreds_of_assigned_frames_match_the_one_by_one_reads(redis_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    writes = Writes(monkeypatch)
    # No connection limit: each customer holds a socket, beyond aiohttp's default 100.
    async with (running(basic_settings(cap=100), redis_url) as (rt, base),
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http):
        alice = await agent(http, base, "alice-token-1234")
        bob = await agent(http, base, "bob-token-12345")  # 200 seats between them
        custs = [await customer(http, base) for _ in range(200)]
        texts = [f"第{i}件外套有M码吗" for i in range(200)]
        await asyncio.gather(*(c.send({"type": "message", "text": t, "client_msg_id": msg_id()})
                               for (c, _), t in zip(custs, texts, strict=True)))
        async with asyncio.timeout(120):
            while len(alice.of("assigned")) + len(bob.of("assigned")) < 200:
                await asyncio.sleep(0.05)
        frames = alice.of("assigned") + bob.of("assigned")
        assert sorted(m["text"] for f in frames for m in f["messages"] if m["from"] == "customer") == sorted(texts)
        for f in frames[:50]:
            cid = f["conversation"]["id"]
            conv = await rt.store.conversation(cid)
            assert conv is not None
            cust = await rt.store.customer(conv["customer_id"])
            assert cust is not None and cust["id"] == conv["customer_id"]
            assert f["conversation"] == {**json.loads(json.dumps(conv)), "customer": cust}
            assert f["messages"] == await rt.transcript.public(cid)

        # One round trip with the customer's id in the event; two without it; the same frame.
        event = {"type": "assigned", "conversation_id": frames[0]["conversation"]["id"]}
        full = await rt.desk.assigned_frame({**event, "customer_id": frames[0]["conversation"]["customer_id"]})
        before = writes.n
        again = await rt.desk.assigned_frame({**event, "customer_id": frames[0]["conversation"]["customer_id"]})
        assert writes.n - before == 1
        before = writes.n
        old_style = await rt.desk.assigned_frame(event)
        assert writes.n - before == 2
        assert full == again == old_style
        for c, _ in custs:
            await c.close()
        await alice.close()
        await bob.close()


async def test_a_console_snapshot_reads_its_open_chats_together(redis_url: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent with 80 open chats opens a second console: its snapshot is 80 `assigned` frames,
    the same as each read on its own, in a handful of round trips rather than two per chat."""
    writes = Writes(monkeypatch)
    async with (running(basic_settings(cap=100), redis_url) as (rt, base),
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http):
        alice = await agent(http, base, "alice-token-1234")
        custs = [await customer(http, base) for _ in range(80)]
        await asyncio.gather(*(c.send({"type": "message", "text": f"第{i}单发货了吗", "client_msg_id": msg_id()})
                               for i, (c, _) in enumerate(custs)))
        async with asyncio.timeout(60):
            while len(alice.of("assigned")) < 80:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the lines' own `message` events have landed too
        before = writes.n
        second = await agent(http, base, "alice-token-1234")
        async with asyncio.timeout(30):
            while len(second.of("assigned")) < 80:
                await asyncio.sleep(0.02)
        took = writes.n - before
        assert took < 30, f"{took} round trips for a snapshot of 80 chats"
        shown = {f["conversation"]["id"]: f for f in second.of("assigned")}
        assert len(shown) == 80
        for cid, frame in list(shown.items())[:20]:
            assert frame == await rt.desk.assigned_frame({"type": "assigned", "conversation_id": cid})
        for c, _ in custs:
            await c.close()
        await alice.close()
        await second.close()
