"""Read receipts at scale and across processes: 200 web chat customers on one process, their two
agents on another; each agent's `read` frames reach exactly the customer whose chat it is, once,
through Redis pub/sub, and the mark is kept (a reconnecting page gets it in its snapshot)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, msg_id

CUSTOMERS = 200


async def test_read_frames_reach_each_customer_once_across_processes(redis_url: str) -> None:
    s = basic_settings(cap=100)  # alice and bob both take presale: 200 chats between them
    async with running(s, redis_url) as (rt1, base1), running(s, redis_url) as (_rt2, base2), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        alice = await agent(http, base2, "alice-token-1234")
        bob = await agent(http, base2, "bob-token-12345")
        people: list[tuple[Socket, str]] = await asyncio.gather(*(customer(http, base1) for _ in range(CUSTOMERS)))
        socks = [c for c, _ in people]
        await asyncio.gather(*(c.send({"type": "message", "text": f"第 {i} 位", "client_msg_id": msg_id()})
                               for i, c in enumerate(socks)))
        acks = await asyncio.gather(*(c.expect(lambda f: f["type"] == "ack", timeout=60) for c in socks))
        mid_of = {a["message_id"]: i for i, a in enumerate(acks)}

        assigned: dict[str, tuple[Socket, str, str]] = {}  # message id -> (agent, conversation, agent id)
        deadline = asyncio.get_running_loop().time() + 60
        while len(assigned) < CUSTOMERS and asyncio.get_running_loop().time() < deadline:
            for who, sock in (("alice", alice), ("bob", bob)):
                for f in sock.of("assigned"):
                    for m in f["messages"]:
                        assigned[m["id"]] = (sock, f["conversation"]["id"], who)
            await asyncio.sleep(0.1)
        assert set(assigned) == set(mid_of)

        for mid, (sock, cid, _who) in assigned.items():
            await sock.send({"type": "read", "conversation_id": cid, "message_id": mid})
        got = await asyncio.gather(*(c.expect(lambda f: f["type"] == "read", timeout=30) for c in socks))
        for i, frame in enumerate(got):
            mid = acks[i]["message_id"]
            assert frame == {"type": "read", "conversation_id": assigned[mid][1], "message_id": mid}

        # The same mark again, or an older one, tells nobody anything new.
        some_mid, (sock, cid, who) = next(iter(assigned.items()))
        await sock.send({"type": "read", "conversation_id": cid, "message_id": some_mid})
        older = "m_" + "0" * 23
        await sock.send({"type": "read", "conversation_id": cid, "message_id": older})
        # The other agent's read of a chat that is not theirs counts for nothing.
        other = bob if sock is alice else alice
        await other.send({"type": "read", "conversation_id": cid, "message_id": some_mid})
        # Refusals: no such conversation, not a message id, an id from the future.
        await sock.send({"type": "read", "conversation_id": "c_nope", "message_id": some_mid})
        assert (await sock.expect(lambda f: f["type"] == "error"))["code"] == "unknown_conversation"
        for bad in ("hello", "m_ffffffffffffff0000000000"):
            await sock.send({"type": "read", "conversation_id": cid, "message_id": bad, "client_msg_id": bad})
            err = await sock.expect(lambda f, b=bad: f["type"] == "error" and f.get("ref") == b)  # type: ignore[misc]
            assert err["code"] == "bad_frame"
        for s_ in (alice, bob):
            await s_.send({"type": "ping"})
            await s_.expect(lambda f: f["type"] == "pong")
        await asyncio.sleep(0.3)  # any stray frame would have arrived by now
        assert all(len(c.of("read")) == 1 for c in socks)
        assert await rt1.store.conversations.read_mark(cid) == some_mid

        # A page that comes back gets the mark in its snapshot.
        i = mid_of[some_mid]
        again, _ = await customer(http, base1, people[i][1])
        snap: dict[str, Any] = await again.expect(lambda f: f["type"] == "conversation")
        assert snap["conversation"]["read"] == some_mid
        await again.close()
        await asyncio.gather(*(c.close() for c in socks), alice.close(), bob.close())
