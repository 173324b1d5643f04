"""Typing indicators: relayed both ways between a web chat customer and their agent, throttled,
never stored, and one round trip to Redis a customer's frame."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers.app import BASIC, basic_settings, running
from helpers.clients import agent, customer, msg_id
from helpers.roundtrips import counting

from router.config.settings import parse_settings
from router.pipeline.typing_relay import Throttle


def test_throttle_allows_once_per_interval_per_key() -> None:
    gate = Throttle(2.0)
    assert gate.allow("a", now=10.0)
    assert not gate.allow("a", now=11.9)
    assert gate.allow("b", now=11.9)
    assert gate.allow("a", now=12.0)


async def test_typing_both_ways_throttled_and_not_stored(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, token = await customer(http, base)
        # Typing before anyone holds the chat goes nowhere, and must not silence what follows.
        await cust.send({"type": "typing"})
        await cust.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        conv = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]
        cid = conv["id"]

        # A burst of keystrokes from the customer reaches the agent as one frame per interval.
        for _ in range(5):
            await cust.send({"type": "typing"})
        got = await alice.expect(lambda f: f["type"] == "typing")
        assert got == {"type": "typing", "conversation_id": cid}
        await cust.send({"type": "ping"})
        await cust.expect(lambda f: f["type"] == "pong")
        await asyncio.sleep(0.3)  # any further relayed frame would have arrived by now
        assert len(alice.of("typing")) == 1

        for _ in range(3):
            await alice.send({"type": "typing", "conversation_id": cid})
        got = await cust.expect(lambda f: f["type"] == "typing")
        assert got == {"type": "typing", "from": "agent", "conversation_id": cid}
        await alice.send({"type": "ping"})
        await alice.expect(lambda f: f["type"] == "pong")
        await asyncio.sleep(0.3)
        assert len(cust.of("typing")) == 1

        # Refusals for an agent: unknown conversation, somebody else's conversation, no id.
        await alice.send({"type": "typing", "conversation_id": "c_nope"})
        assert (await alice.expect(lambda f: f["type"] == "error"))["code"] == "unknown_conversation"
        bob = await agent(http, base, "bob-token-12345")
        await bob.send({"type": "typing", "conversation_id": cid})
        assert (await bob.expect(lambda f: f["type"] == "error"))["code"] == "not_assigned_to_you"
        await bob.send({"type": "typing"})
        assert (await bob.expect(lambda f: f["type"] == "error" and f["code"] == "bad_frame"))

        # Nothing of it is stored: not in the transcript, the customer's feed or the agent's events.
        k = rt.store.keys
        events = await rt.store.client.xrange(k.agent_events("alice"))
        assert not any('"typing"' in fields["f"] for _, fields in events)
        feed = await rt.store.client.xrange(k.feed(conv["customer"]["identities"][0].split(":")[-1]))
        assert not any('"typing"' in fields["m"] for _, fields in feed)
        async with http.get(f"{base}/api/v1/conversations/{cid}",
                            headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert [m["text"] for m in (await r.json())["messages"]] == ["在吗"]
        # A page that reconnects is not told about typing that happened while it was away.
        again, _ = await customer(http, base, token=token)
        await again.expect(lambda f: f["type"] == "conversation")
        await again.send({"type": "ping"})
        await again.expect(lambda f: f["type"] == "pong")
        assert again.of("typing") == []
        for s in (alice, bob, cust, again):
            await s.close()


async def test_three_hundred_customers_typing_at_once_cost_a_round_trip_each(redis_url: str) -> None:
    """150 customers with an agent and 150 waiting in line all type at once: each agent is told once
    per chat they hold, nobody about a waiting one, and each frame is one round trip to Redis
    (customer_typing.lua finds the agent and publishes), where the reads in turn were four."""
    settings = parse_settings(BASIC.format(cap=75) + "rate_limits:\n  enabled: false\n", "<test>")
    async with running(settings, redis_url) as (_rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        alice, bob = await agent(http, base, "alice-token-1234"), await agent(http, base, "bob-token-12345")
        socks = [s for s, _ in await asyncio.gather(*(customer(http, base) for _ in range(300)))]
        for part in range(0, 300, 50):
            await asyncio.gather(*(s.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
                                   for s in socks[part:part + 50]))
            await asyncio.gather(*(s.expect(lambda f: f["type"] in ("agent", "queue"), timeout=60)
                                   for s in socks[part:part + 50]))
        await alice.expect_count(lambda f: f["type"] == "assigned", 75, timeout=60)
        await bob.expect_count(lambda f: f["type"] == "assigned", 75, timeout=60)
        held = {f["conversation"]["id"] for a in (alice, bob) for f in a.of("assigned")}

        with counting() as writes:
            idle_from, clock = writes.writes, asyncio.get_running_loop().time
            await asyncio.sleep(1.0)
            idle_per_s = writes.writes - idle_from
            before, started = writes.writes, clock()
            await asyncio.gather(*(s.send({"type": "typing"}) for s in socks))
            await asyncio.gather(*(s.send({"type": "ping"}) for s in socks))  # each socket's frames are in order
            await asyncio.gather(*(s.expect(lambda f: f["type"] == "pong", timeout=60) for s in socks))
            spent, took = writes.writes - before, clock() - started
        await alice.expect_count(lambda f: f["type"] == "typing", 75, timeout=30)
        await bob.expect_count(lambda f: f["type"] == "typing", 75, timeout=30)
        await asyncio.sleep(0.3)  # a frame too many would have come by now
        told = [f["conversation_id"] for a in (alice, bob) for f in a.of("typing")]
        assert sorted(told) == sorted(held)
        assert spent <= 300 + 2 * idle_per_s * took + 10, f"{spent} round trips for 300 typing frames"
        for s in (*socks, alice, bob):
            await s.close()
