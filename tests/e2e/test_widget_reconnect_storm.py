"""Three hundred web chat pages reconnect at once, as after a deploy or a network blip at the peak:
each is shown the history it missed and its conversation as it stands (its agent, or its place in
line), and the whole connect costs two round trips to Redis a page (widget_view.lua and
feed_since.lua, at once), where the reads one after another cost seven or eight."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer, msg_id
from helpers.redis_cluster import RedisCluster
from helpers.roundtrips import counting

from bench.roundtrips import Counter
from router.config.settings import parse_settings

PAGES = 300
CAP = 50
"""Alice and Bob hold 50 chats each: 100 pages have an agent, 200 wait in line."""
IDLE_S = 1.0


@pytest.fixture
def writes() -> Iterator[type[Counter]]:
    """Round trips to Redis from this process (the router runs in it)."""
    with counting() as c:
        yield c


async def test_three_hundred_pages_reconnect_at_once(redis_url: str, writes: type[Counter]) -> None:
    await storm(redis_url, "", writes)


async def test_the_same_on_a_cluster(redis_cluster: RedisCluster, writes: type[Counter]) -> None:
    """The view's keys are in the routing slot and the feed's in the visitor's: two masters."""
    await storm(redis_cluster.url, f"redis: {{url: '{redis_cluster.url}', cluster: true}}\n", writes)


async def storm(redis_url: str, extra: str, writes: type[Counter]) -> None:
    settings = parse_settings(BASIC.format(cap=CAP) + "rate_limits:\n  enabled: false\n" + extra, "<test>")
    async with running(settings, redis_url) as (_rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        alice, bob = await agent(http, base, "alice-token-1234"), await agent(http, base, "bob-token-12345")
        pages: list[tuple[str, str]] = []  # (session token, the id of the page's own line)

        async def write(i: int) -> None:
            sock, token = await customer(http, base)
            ref = msg_id()
            await sock.send({"type": "message", "text": f"第{i}位", "client_msg_id": ref})
            ack = await sock.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == ref, timeout=60)
            await sock.expect(lambda f: f["type"] in ("agent", "queue"), timeout=60)
            await sock.close()
            pages.append((token, ack["message_id"]))

        for start in range(0, PAGES, 50):
            await asyncio.gather(*(write(i) for i in range(start, min(start + 50, PAGES))))

        # Each agent answers every chat they hold while the pages are away.
        held: dict[str, str] = {}
        for who, sock in (("Alice", alice), ("Bob", bob)):
            for _ in range(CAP):
                f = await sock.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] not in held,
                                      timeout=60)
                cid = f["conversation"]["id"]
                held[cid] = who
                await sock.send({"type": "reply", "conversation_id": cid, "text": f"{who} 回复 {cid}",
                                 "client_msg_id": msg_id()})
        for sock in (alice, bob):  # each answer is in its page's feed before the pages come back
            delivered: set[str] = set()
            while len(delivered) < CAP:
                f = await sock.expect(lambda f, seen=delivered: f["type"] == "delivery" and f["status"] == "sent"
                                      and f["message_id"] not in seen, timeout=60)
                delivered.add(f["message_id"])
            sock.frames.clear()

        # Twice: the first storm also opens the connections a storm needs (a Cluster client's to
        # each master), whose set-up is not the pages' reads; the second is counted.
        for _ in range(2):
            # What the loops send on their own (timers, presence), measured alone, is allowed for.
            idle_from, clock = writes.writes, asyncio.get_running_loop().time
            await asyncio.sleep(IDLE_S)
            idle_per_s = (writes.writes - idle_from) / IDLE_S
            before, pinged, started = writes.writes, writes.pings, clock()
            socks: list[Socket] = [s for s, _ in await asyncio.gather(
                *(customer(http, base, token=token, last_seen=seen) for token, seen in pages))]
            snaps = await asyncio.gather(*(s.expect(lambda f: f["type"] == "conversation", timeout=60)
                                           for s in socks))
            spent, took = writes.writes - before, clock() - started
            # Health-check PINGs are the pools' upkeep, not the pages': the cluster client's new
            # connections send one before their first command, and a connection idle past
            # health_check_interval (30 s, which a loaded machine can take to seat the chats) sends
            # one before its next. A loaded run counted 146 in a first storm, 26 in a second.
            spent -= writes.pings - pinged
            check(socks, snaps, held)
            await asyncio.gather(*(s.close() for s in socks))
        # Two round trips a page, besides the loops' own (twice their idle rate, for a busy machine),
        # and a tenth of a round trip a page for what a 1 s idle window misses: a loaded suite run
        # once counted 636 against 630 (before the connect's scripts, a storm cost 2,149).
        assert spent <= 2 * PAGES + 2 * idle_per_s * took + PAGES // 10, \
            f"{spent} round trips to Redis for {PAGES} reconnects in {took:.1f} s ({idle_per_s:.0f} a second idle)"
        await asyncio.gather(alice.close(), bob.close())


def check(socks: list[Socket], snaps: list[dict[str, Any]], held: dict[str, str]) -> None:
    """Each page was shown the answer it missed, before its snapshot, and its agent or place."""
    places = []
    for sock, snap in zip(socks, snaps, strict=True):
        conv = snap["conversation"]
        if conv["id"] in held:
            assert conv["state"] == "assigned" and conv["agent"]["name"] == held[conv["id"]] and conv["queue"] is None
            missed = [f for f in sock.frames if f["type"] == "message"]
            assert [m["message"]["text"] for m in missed] == [f"{held[conv['id']]} 回复 {conv['id']}"]
            assert sock.frames.index(missed[0]) < sock.frames.index(snap)
        else:
            assert conv["state"] == "queued" and conv["agent"] is None and conv["queue"]["eta_s"] != 0
            assert not [f for f in sock.frames if f["type"] == "message"]  # nothing after its own line
            places.append(conv["queue"]["position"])
        assert any(f["type"] == "availability" and f["availability"] == "online" for f in sock.frames)
    assert len([s for s in snaps if s["conversation"]["id"] in held]) == 2 * CAP
    assert sorted(places) == list(range(1, PAGES - 2 * CAP + 1))  # every place in line once
