"""No live-delivery gap while a console reconnects during routing.

Two hundred web chat customers write while Alice's console drops and comes back several times and
Bob's stays up. Every connection of an agent must show every customer message of that agent's
chats, in its snapshot (the `assigned` transcripts) or live (`message` frames), and none twice:
a message accepted while a socket builds its snapshot may be neither in the snapshot it read nor
in the live frames it subscribed to, if the socket subscribes after reading.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import aiohttp
from helpers.app import running
from helpers.clients import Socket, agent, customer, msg_id
from helpers.redis_cluster import RedisCluster

from router.config.settings import Settings, parse_settings

CUSTOMERS = 200
MESSAGES_EACH = 3
RECONNECTS = 6
ALICE = "alice-token-1234"
BOB = "bob-token-12345"
SETTLE_S = 30.0
"""How long a connection may take to show what was accepted before it is checked: generous on a
loaded machine; a message that is missing by then is lost, not late."""


def settings(redis: str = "") -> Settings:
    return parse_settings(f"""{redis}
pools:
  - id: presale
agents:
  - id: alice
    name: Alice
    token: {ALICE}
    pools: [presale]
    max_chats: 100
  - id: bob
    name: Bob
    token: {BOB}
    pools: [presale]
    max_chats: 100
ops:
  disconnect_grace_s: 600
""", "<test>")


def shown(sock: Socket) -> Counter[str]:
    """Message id -> how often this connection showed it, in `assigned` transcripts and live."""
    seen: Counter[str] = Counter()
    for f in sock.frames:
        if f["type"] == "assigned":
            seen.update(m["id"] for m in f["messages"])
        elif f["type"] == "message":
            seen[f["message"]["id"]] += 1
    return seen


class Crowd:
    """The customers: what each had accepted (acked ids) and which agent they were told they have."""

    def __init__(self) -> None:
        self.socks: list[Socket] = []

    def accepted(self, aid: str) -> set[str]:
        """Ids of accepted messages from customers whose chat is with `aid`."""
        ids: set[str] = set()
        for sock in self.socks:
            told = [f["agent"]["id"] for f in sock.of("agent") if isinstance(f.get("agent"), dict)]
            if told and told[-1] == aid:
                ids.update(f["message_id"] for f in sock.of("ack"))
        return ids

    async def write(self, i: int) -> None:
        sock = self.socks[i]
        for n in range(MESSAGES_EACH):
            await asyncio.sleep(random.uniform(0, 1.5))
            await sock.send({"type": "message", "text": f"c{i}-{n} 在吗", "client_msg_id": msg_id()})
            await sock.expect_count(lambda f: f["type"] == "ack", n + 1, timeout=30)


async def settled(sock: Socket, crowd: Crowd, aid: str) -> tuple[set[str], Counter[str]]:
    """Wait (bounded) until this connection shows every message accepted so far for its agent;
    return what is still missing and the per-id counts."""
    want = crowd.accepted(aid)
    deadline = asyncio.get_running_loop().time() + SETTLE_S
    while True:
        seen = shown(sock)
        missing = want - set(seen)
        if not missing or asyncio.get_running_loop().time() > deadline:
            return missing, seen
        await asyncio.sleep(0.2)


def twice(seen: Counter[str]) -> dict[str, int]:
    return {mid: n for mid, n in seen.items() if n > 1}


async def test_two_hundred_customers_while_a_console_reconnects_lose_and_double_nothing(redis_url: str) -> None:
    await crowd_while_reconnecting(settings(), redis_url)


async def test_the_same_on_a_cluster(redis_cluster: RedisCluster) -> None:
    """On a Cluster a message's transcript append and its agent event go to different masters,
    so a snapshot may read the stream past an event whose transcript line has not landed."""
    config = settings(f"redis: {{url: '{redis_cluster.url}', cluster: true}}")
    assert config.redis.cluster
    await crowd_while_reconnecting(config, redis_cluster.url)


async def crowd_while_reconnecting(config: Settings, url: str) -> None:
    rng = random.Random(7)
    async with running(config, url) as (_rt, base), aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        # limit=0: the default pool of 100 connections would hold the 101st WebSocket back.
        bob = await agent(http, base, BOB)
        alice = await agent(http, base, ALICE)
        crowd = Crowd()
        crowd.socks = [s for s, _ in await asyncio.gather(*(customer(http, base) for _ in range(CUSTOMERS)))]
        writing = asyncio.gather(*(crowd.write(i) for i in range(CUSTOMERS)))

        for round_ in range(RECONNECTS):
            # Mid-routing: messages keep arriving while the console is away and while it reconnects.
            await asyncio.sleep(rng.uniform(0.1, 0.6))
            missing, seen = await settled(alice, crowd, "alice")
            assert not missing, f"round {round_}: {len(missing)} accepted messages never reached alice's console"
            assert not twice(seen), f"round {round_}: shown twice on one connection: {twice(seen)}"
            await alice.close()
            await asyncio.sleep(rng.uniform(0, 0.3))
            alice = await agent(http, base, ALICE)

        await asyncio.wait_for(writing, 120)
        everyone = set().union(*(set(f["message_id"] for f in s.of("ack")) for s in crowd.socks))
        assert len(everyone) == CUSTOMERS * MESSAGES_EACH
        for name, sock in (("alice", alice), ("bob", bob)):
            missing, seen = await settled(sock, crowd, name)
            assert not missing, f"{len(missing)} accepted messages never reached {name}'s console"
            assert not twice(seen), f"shown twice to {name}: {twice(seen)}"
        # Every customer was routed to one of the two, and between them they saw every message.
        assert crowd.accepted("alice") | crowd.accepted("bob") == everyone
        assert crowd.accepted("alice") and crowd.accepted("bob")
        for s in [alice, bob, *crowd.socks]:
            await s.close()
