"""Retention at scale and the archive through an outage: hundreds of conversations are archived,
their Redis keys go and memory is freed; with the database away for 20 s the queue grows, then
drains, nothing is lost and nothing is dead-lettered."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent
from helpers.pg import PG_HOST, PG_PORT, private_database
from helpers.tcp_proxy import TcpProxy
from helpers.traffic import Done, many

from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

CONVERSATIONS = 300
CUSTOMERS = 60
OUTAGE_S = 20.0


def settings(archive_url: str, sweep_s: float = 3600) -> Settings:
    return parse_settings(BASIC.format(cap=100).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
  claim_idle_ms: 2000
  max_tries: 2
retention:
  redis_after_close_s: 1
  sweep_interval_s: {sweep_s}
""", "<test>")


async def wait_archived(rt: Runtime, n: int, timeout: float = 120) -> None:
    await asyncio.wait_for(rt.archive.ready.wait(), 60)
    deadline = time.monotonic() + timeout
    while await rt.archive.count() < n:
        assert time.monotonic() < deadline, f"{await rt.archive.count()} of {n} archived"
        await asyncio.sleep(0.2)


async def r_len(rt: Runtime, stream: str) -> int:
    return int(await rt.store.client.xlen(stream))


async def count_keys(rt: Runtime, pattern: str) -> int:
    return len([k async for k in rt.store.client.scan_iter(match=pattern, count=1000)])


async def check_transcripts(rt: Runtime, done: list[Done]) -> None:
    for d in done:
        row = await rt.archive.conversation(d.cid)
        assert row is not None, d.cid
        assert [(m["from"], m["text"]) for m in row["messages"]] == d.lines


async def test_hundreds_of_conversations_are_archived_and_leave_redis(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        base_keys = await rt.store.client.dbsize()
        done = await many(http, base, alice, CONVERSATIONS, CUSTOMERS)
        assert len({d.cid for d in done}) == CONVERSATIONS
        await wait_archived(rt, CONVERSATIONS)
        await check_transcripts(rt, done)

        r = rt.store.client
        before = int((await r.info("memory"))["used_memory"])
        keys_before = await r.dbsize()
        assert await rt.retention.sweep(now=time.time() + 2) == CONVERSATIONS
        after = int((await r.info("memory"))["used_memory"])
        keys_after = await r.dbsize()
        k = rt.store.keys
        assert await count_keys(rt, k.conv("*")) == 0
        assert await count_keys(rt, k.transcript("*")) == 0
        assert await r.zcard(k.conv_index) == 0 and await r.hlen(k.archive_purging) == 0
        # What stays is per customer (their hash, identities, identity link, chat feed, and the
        # numbering of their lines with the last one routed, which expire on their own), not per
        # conversation, but for the agents' reply marks, which expire on their own too; plus a few
        # shared keys the traffic made (the archive queue's stream, counters).
        marks = [key async for key in r.scan_iter(match=k.outbound_seen("*", "*"), count=1000)]
        assert len(marks) <= CONVERSATIONS and all([await r.ttl(m) > 0 for m in marks[:20]])
        assert keys_after - len(marks) <= base_keys + 6 * CUSTOMERS + 10, (keys_before, keys_after, len(marks))
        assert before - after > CONVERSATIONS * 1024, (before, after)
        # Sticky routing survives: every customer's last agent is remembered.
        cust = (await rt.archive.conversation(done[0].cid) or {})["customer_id"]
        assert await r.hget(k.customer(cust), "last_agent") == "alice"
        # And the archive answers for every one of them.
        async with http.get(f"{base}/api/v1/conversations/{done[-1].cid}",
                            headers={"Authorization": "Bearer sue-token-12345"}) as resp:
            body = await resp.json()
        assert body["archived"] is True and [m["text"] for m in body["messages"]] == [t for _, t in done[-1].lines]
        await alice.close()


async def test_postgresql_away_mid_run_delays_archiving_and_loses_nothing(redis_url: str) -> None:
    async with private_database() as direct:
        proxy = TcpProxy(PG_HOST, PG_PORT)
        await proxy.start()
        url = direct.replace(f"{PG_HOST}:{PG_PORT}", f"127.0.0.1:{proxy.port}")
        try:
            async with running(settings(url, sweep_s=0.5), redis_url) as (rt, base), \
                    aiohttp.ClientSession() as http:
                alice = await agent(http, base, "alice-token-1234")
                first = await many(http, base, alice, 60, 20)
                await wait_archived(rt, 60)

                await proxy.stop()  # the database goes away, for 20 s
                away = time.monotonic()
                second = await many(http, base, alice, 120, 40, start=1000)
                backlog = await rt.archiver.backlog()
                assert backlog > 0 and rt.archiver.outage
                await asyncio.sleep(max(0.0, away + OUTAGE_S - time.monotonic()))
                assert await rt.archiver.backlog() >= backlog  # nothing was dropped meanwhile
                # Every try failed, many more than max_tries times: an outage is nobody's poison.
                assert await r_len(rt, rt.store.keys.archive_dead_letters) == 0
                # Retention never lets go of what the archive does not hold.
                assert await count_keys(rt, rt.store.keys.conv("*")) >= 120

                await proxy.start()  # back
                await wait_archived(rt, 180, timeout=120)
                deadline = time.monotonic() + 30
                while await rt.archiver.backlog():
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.2)
                await check_transcripts(rt, first + second)
                assert not rt.archiver.outage
                assert await r_len(rt, rt.store.keys.archive_dead_letters) == 0
                assert not await rt.store.client.exists(rt.store.keys.archive_tries)
                await alice.close()
        finally:
            await proxy.stop()
