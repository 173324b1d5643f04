"""Supervisors in agents' conversations (issue 19) at a few hundred conversations: a whisper reaches
the assigned agent (and supervisors) and never a customer's socket, feed or the channel outbox;
joining tells the customer and the agent once and the supervisor's replies go out under their
own name; a supervisor follows a conversation live with `watch`. Agents are refused (403 with
the reason), bad input changes nothing, and joins and whispers are audited."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, msg_id

from router.archive.audit import AuditFilter
from router.models import Reply

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}
CONVERSATIONS = 190
"""Alice's and Bob's caps are 100 each (the most a config allows)."""
SECRET = "悄悄话：这位客户上次投诉过，先别提退款"


async def post(http: aiohttp.ClientSession, url: str, who: dict[str, str], body: Any = None) -> tuple[int, Any]:
    async with http.post(url, headers=who, json=body) as r:
        return r.status, await r.json()


async def test_whisper_join_and_watch_at_scale(redis_url: str) -> None:
    async with running(basic_settings(cap=100), redis_url) as (rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sent: list[Reply] = []
        for adapter in rt.adapters.values():  # every reply any channel is asked to send
            real = adapter.send

            async def spy(reply: Reply, real: Any = real) -> None:
                sent.append(reply)
                await real(reply)

            adapter.send = spy  # type: ignore[method-assign]
        alice = await agent(http, base, "alice-token-1234")
        bob = await agent(http, base, "bob-token-12345")
        sue = await agent(http, base, "sue-token-12345")
        custs: list[Socket] = []
        for n in range(CONVERSATIONS):
            cust, _ = await customer(http, base)
            custs.append(cust)
            await cust.send({"type": "message", "text": f"第{n}个客户：订单什么时候发货", "client_msg_id": msg_id()})
        cids: dict[str, str] = {}  # conversation -> its agent
        deadline = asyncio.get_running_loop().time() + 120
        while len(cids) < CONVERSATIONS:
            assert asyncio.get_running_loop().time() < deadline, len(cids)
            for who, sock in (("alice", alice), ("bob", bob), ("sue", sue)):
                for f in sock.of("assigned"):
                    cids[f["conversation"]["id"]] = who
            await asyncio.sleep(0.1)
        cids = {c: o for c, o in cids.items() if o != "sue"}  # Sue's own (aftersale) are not whispered into
        assert set(cids.values()) == {"alice", "bob"} and len(cids) > 150

        # A whisper into every conversation: 201, for its agent.
        for i, (cid, owner) in enumerate(cids.items()):
            status, body = await post(http, f"{base}/api/v1/conversations/{cid}/whisper", SUE,
                                      {"text": f"{SECRET} #{i}", "client_msg_id": f"w{i}"})
            assert status == 201, body
            assert body["message"]["whisper"] is True and body["message"]["whisper_to"] == owner
        # Resent with the same client_msg_id: the same whisper, not a second one.
        first = next(iter(cids))
        status, again = await post(http, f"{base}/api/v1/conversations/{first}/whisper", SUE,
                                   {"text": f"{SECRET} #0", "client_msg_id": "w0"})
        assert status == 201
        for who, sock in (("alice", alice), ("bob", bob)):
            mine = {c for c, o in cids.items() if o == who}
            got = await sock.expect_count(lambda f: f["type"] == "message" and f["message"].get("whisper"),
                                          len(mine), timeout=60)
            assert {f["conversation_id"] for f in got} == mine  # each agent only their own
        assert sum(1 for f in alice.of("message") if f["message"].get("id") == again["message"]["id"]) <= 1

        # Agents are refused, with the reason; bad input changes nothing.
        status, body = await post(http, f"{base}/api/v1/conversations/{first}/whisper", ALICE,
                                  {"text": "x", "client_msg_id": "a1"})
        assert status == 403 and "supervisor" in body["detail"]
        status, body = await post(http, f"{base}/api/v1/conversations/{first}/join", ALICE)
        assert status == 403 and "supervisor" in body["detail"]
        before = len(await rt.store.transcripts.messages(first))
        for bad in ({"client_msg_id": "b1"}, {"text": "", "client_msg_id": "b2"}, {"text": "x"},
                    {"text": "x" * 100_000, "client_msg_id": "b3"}):
            status, body = await post(http, f"{base}/api/v1/conversations/{first}/whisper", SUE, bad)
            assert status == 400 and body["detail"], bad
        status, body = await post(http, f"{base}/api/v1/conversations/c_nope/whisper", SUE,
                                  {"text": "x", "client_msg_id": "b4"})
        assert status == 404
        assert len(await rt.store.transcripts.messages(first)) == before

        # An agent's own reads: the whisper for them is there; for someone else's eyes it is not.
        owner = cids[first]
        token = "alice-token-1234" if owner == "alice" else "bob-token-12345"
        async with http.get(f"{base}/api/v1/conversations/{first}", headers={"Authorization": f"Bearer {token}"}) as r:
            msgs = (await r.json())["messages"]
        assert [m["text"] for m in msgs if m.get("whisper")] == [f"{SECRET} #0"]

        # Join one conversation: the customer's page hears of Sue, the agent sees the note.
        target = next(c for c, o in cids.items() if o == "alice")
        status, body = await post(http, f"{base}/api/v1/conversations/{target}/join", SUE)
        assert status == 200 and body == {"joined": target, "agent": "alice", "new": True}
        status, body = await post(http, f"{base}/api/v1/conversations/{target}/join", SUE)
        assert status == 200 and body["new"] is False  # said once
        cust_of = await _customer_of(rt, custs, target)
        joined = await cust_of.expect(lambda f: f["type"] == "agent_joined")
        assert joined["agent"] == {"id": "sue", "name": "Sue"}
        await alice.expect(lambda f: f["type"] == "message" and f["conversation_id"] == target
                           and f["message"].get("event", {}).get("kind") == "joined")
        # Sue follows it live, then answers as herself.
        await sue.send({"type": "watch", "conversation_id": target})
        await sue.expect(lambda f: f["type"] == "watching" and f["conversation_id"] == target)
        await sue.expect(lambda f: f["type"] == "watched" and any(m.get("whisper") for m in f["messages"]))
        await cust_of.send({"type": "message", "text": "主管你好，我还在等", "client_msg_id": msg_id()})
        await sue.expect(lambda f: f["type"] == "watched" and any(m["text"] == "主管你好，我还在等" for m in f["messages"]))
        rid = msg_id()
        await sue.send({"type": "reply", "conversation_id": target, "text": "您好，我是主管，马上为您处理", "client_msg_id": rid})
        await sue.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == rid)
        got = await cust_of.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "您好，我是主管，马上为您处理")
        assert got["message"]["agent_id"] == "sue" and got["message"]["agent_name"] == "Sue"
        await alice.expect(lambda f: f["type"] == "message" and f["conversation_id"] == target
                           and f["message"].get("agent_id") == "sue")
        await sue.expect(lambda f: f["type"] == "watched"
                         and any(m["text"] == "您好，我是主管，马上为您处理" for m in f["messages"]))
        # Agents may not watch.
        await alice.send({"type": "watch", "conversation_id": target})
        err = await alice.expect(lambda f: f["type"] == "error" and f["code"] == "forbidden")
        assert "supervisor" in err["detail"]

        # Transferred to bob: bob's console never gets alice's whisper.
        await alice.send({"type": "transfer", "conversation_id": target, "to_agent": "bob"})
        moved = await bob.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == target)
        assert not [m for m in moved["messages"] if m.get("whisper")]
        assert any(m.get("agent_id") == "sue" for m in moved["messages"])  # Sue's answer is there

        # No customer ever got a whisper: not on a socket, not in a feed, not from any channel.
        await asyncio.sleep(1)
        for n, cust in enumerate(custs):
            assert SECRET not in json.dumps(cust.frames, ensure_ascii=False), n
        assert not [r for r in sent if SECRET in (r.text or "")]
        assert any(r.text == "您好，我是主管，马上为您处理" for r in sent)  # the spy does see replies
        for cid in cids:
            conv = await rt.store.conversations.get(cid)
            assert conv is not None and conv.chat
            feed = await rt.store.feeds.after(conv.chat, "0", 1000)
            assert SECRET not in json.dumps(feed, ensure_ascii=False)
        for part in range(rt.store.partitions):
            rows = await rt.store.client.xrange(rt.store.keys.partition(part).outbound)
            assert SECRET not in json.dumps(rows, ensure_ascii=False)

        entries = (await rt.audit.query(AuditFilter(actor="sue"), limit=1000))[0]
        actions = [e["action"] for e in entries]
        assert actions.count("conversation.whisper") == len(cids) and actions.count("conversation.join") == 1
        assert all(SECRET not in json.dumps(e, ensure_ascii=False) for e in entries)
        for s in (alice, bob, sue, *custs):
            await s.close()


async def _customer_of(rt: Any, custs: list[Socket], cid: str) -> Socket:
    """The customer socket that opened `cid`: customer n wrote "第n个客户：..."."""
    msgs = await rt.store.transcripts.messages(cid)
    first = next(m.text for m in msgs if m.direction.value == "in")
    return custs[int(first[1:first.index("个")])]
