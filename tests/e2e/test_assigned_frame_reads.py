"""An `assigned` frame is read in one round trip: the conversation, its customer and the
transcript with delivery states come from one pipeline, and show the same as read one by one
(the console's snapshot does that). An event without the customer's id (emitted by a process of
an earlier version) still gets the customer, with one more round trip."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers.app import basic_settings, running
from helpers.clients import agent, customer, msg_id
from redis.asyncio.connection import AbstractConnection

from router.config.settings import parse_settings
from router.store.connection import _Cheaper
from router.store.views import AssignedView


class Writes:
    """Counts what this process's redis-py connections send: one write is one round trip."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        original = AbstractConnection.send_packed_command

        async def counted(conn: AbstractConnection, command: Any, check_health: bool = True) -> None:
            if not isinstance(conn, _Cheaper):  # counted below (it may hand a send on to this)
                self.n += 1
            await original(conn, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
        # The plain client's own connection class sends by itself.
        mine = _Cheaper.send_packed_command

        async def counted_mine(conn: _Cheaper, command: Any, check_health: bool = True) -> None:
            self.n += 1
            await mine(conn, command, check_health)

        monkeypatch.setattr(_Cheaper, "send_packed_command", counted_mine)


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


SLA_CONFIG = """
pools:
  - id: presale
agents:
  - {id: alice, name: Alice, token: alice-token-1234, pools: [presale], max_chats: 100}
  - {id: bob, name: Bob, token: bob-token-12345, pools: [presale], max_chats: 100}
  - {id: carol, name: Carol, token: carol-token-1234, pools: [presale], max_chats: 100}
routing:
  rules: rules.yaml
sla:
  profiles: sla.yaml
worker:
  claim_idle_ms: 1000
  reopen_window_s: 60
"""


async def test_new_chats_are_shown_from_the_published_event_without_a_read(
        redis_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """300 new chats reach their agents with no read of Redis on the agent's socket: the route
    script publishes what the frame shows beside the event. The frames are the same as read one
    by one (the SLA the route started included). A reopened chat has history, so its frame is
    read, and shows the earlier lines too."""
    (tmp_path / "rules.yaml").write_text("default: {pool: presale, sla: std}\n")
    (tmp_path / "sla.yaml").write_text("profiles:\n  std:\n    first_response: 10m\n")
    settings = parse_settings(SLA_CONFIG, "<test>", base_dir=str(tmp_path))
    async with (running(settings, redis_url) as (rt, base),
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http):
        reads: list[str] = []
        read = rt.store.assigned_view

        async def counted(cid: str, customer_hint: str = "", limit: int = 500) -> AssignedView:
            reads.append(cid)
            return await read(cid, customer_hint, limit)

        monkeypatch.setattr(rt.store, "assigned_view", counted)
        alice = await agent(http, base, "alice-token-1234")
        bob = await agent(http, base, "bob-token-12345")
        carol = await agent(http, base, "carol-token-1234")
        custs = [await customer(http, base) for _ in range(300)]
        texts = [f"第{i}件羽绒服有黑色吗" for i in range(300)]
        await asyncio.gather(*(c.send({"type": "message", "text": t, "client_msg_id": msg_id()})
                               for (c, _), t in zip(custs, texts, strict=True)))
        async with asyncio.timeout(180):
            while len(alice.of("assigned")) + len(bob.of("assigned")) + len(carol.of("assigned")) < 300:
                await asyncio.sleep(0.05)
        frames = alice.of("assigned") + bob.of("assigned") + carol.of("assigned")
        assert reads == [], f"{len(reads)} of 300 new chats' frames were read from Redis"
        assert sorted(m["text"] for f in frames for m in f["messages"]) == sorted(texts)
        for f in frames[:60]:
            read_now = await rt.desk.assigned_frame({"type": "assigned", "conversation_id": f["conversation"]["id"]})
            assert f == read_now
            assert f["conversation"]["sla"]["profile"] == "std"

        # Closed and written to again within the reopen window: the same conversation, with history.
        first = frames[0]
        cid = first["conversation"]["id"]
        holder = next(a for a in (alice, bob, carol) if first in a.of("assigned"))
        await holder.send({"type": "close", "conversation_id": cid})
        await holder.expect(lambda f: f["type"] == "closed" and f["conversation_id"] == cid)
        sock = next(c for (c, _), t in zip(custs, texts, strict=True) if t == first["messages"][0]["text"])
        seen = len(holder.frames)
        reads.clear()  # the comparisons above read
        await sock.send({"type": "message", "text": "还在吗", "client_msg_id": msg_id()})
        again = await holder.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid,
                                    timeout=30, start=seen)
        assert [m["text"] for m in again["messages"] if m["from"] == "customer"] == [
            first["messages"][0]["text"], "还在吗"]
        assert reads == [cid]
        for c, _ in custs:
            await c.close()
        for a in (alice, bob, carol):
            await a.close()
