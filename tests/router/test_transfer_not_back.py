"""A transfer never lands back on its sender (issue 19, item 2): to an offline agent, or to a pool
whose only online agent is the sender, the chat waits in the queue, says so, and goes to the
next other agent who can take it."""

from __future__ import annotations

from typing import Any

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, msg_id

from router.models import ConversationState


async def alice_has_a_chat(http: aiohttp.ClientSession, base: str) -> tuple[Socket, Socket, str]:
    alice = await agent(http, base, "alice-token-1234")
    cust, _ = await customer(http, base)
    await cust.send({"type": "message", "text": "你好", "client_msg_id": msg_id()})
    cid = str((await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"])
    return alice, cust, cid


async def never_again(sock: Socket, cid: str, start: int) -> None:
    """No second `assigned` frame for `cid` on `sock` after frame `start` (within a second)."""
    try:
        await sock.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid, timeout=1.0,
                          start=start)
    except AssertionError:
        return
    raise AssertionError(f"{cid} came back to its sender")


async def transfer(sock: Socket, frame: dict[str, Any]) -> dict[str, Any]:
    start = len(sock.frames)
    await sock.send({"type": "transfer", **frame})
    return await sock.expect(lambda f: f["type"] in ("transferred", "error"), start=start)


async def test_to_an_offline_agent_it_waits_in_their_pool_and_not_with_the_sender(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice, _cust, cid = await alice_has_a_chat(http, base)
        start = len(alice.frames)
        done = await transfer(alice, {"conversation_id": cid, "to_agent": "bob", "note": "退款"})
        assert done == {"type": "transferred", "conversation_id": cid, "outcome": "queued", "to": "presale"}
        await alice.expect(lambda f: f["type"] == "unassigned" and f["conversation_id"] == cid, start=start)
        await never_again(alice, cid, start)
        conv = await rt.store.conversations.get(cid)
        assert conv is not None and conv.state is ConversationState.QUEUED and conv.agent is None

        # Bob comes online: it is his, and the note says where it went.
        bob = await agent(http, base, "bob-token-12345")
        await bob.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        await alice.close()
        await bob.close()


async def test_to_a_pool_whose_only_online_agent_is_the_sender(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice, cust, cid = await alice_has_a_chat(http, base)
        start = len(alice.frames)
        done = await transfer(alice, {"conversation_id": cid, "to_pool": "presale"})
        assert done["outcome"] == "queued" and done["to"] == "presale"
        await never_again(alice, cid, start)
        # The customer writes again: still waiting, still not the sender's.
        await cust.send({"type": "message", "text": "还在吗", "client_msg_id": msg_id()})
        await never_again(alice, cid, start)
        conv = await rt.store.conversations.get(cid)
        assert conv is not None and conv.state is ConversationState.QUEUED

        # Another customer's new chat still goes to Alice: only the transferred one passes her over.
        other, _ = await customer(http, base)
        await other.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != cid, start=start)

        bob = await agent(http, base, "bob-token-12345")
        await bob.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        await alice.close()
        await bob.close()


async def test_to_an_online_agent_with_room_it_is_theirs_at_once(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice, _cust, cid = await alice_has_a_chat(http, base)
        bob = await agent(http, base, "bob-token-12345")
        done = await transfer(alice, {"conversation_id": cid, "to_agent": "bob"})
        assert done["outcome"] == "assigned" and done["to"] == "bob"
        await bob.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        await alice.close()
        await bob.close()
