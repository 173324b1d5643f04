"""An archived conversation answers the same people as the live one did (issue 19): its agent,
the agents a note named with @, and the agent who transferred it away; supervisors; nobody else.
120 conversations, asked live and again once only the archive holds them, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import sqlalchemy as sa
from helpers.app import BASIC, running
from helpers.archive import wait_archived
from helpers.clients import Socket, agent, customer, msg_id

from router.archive.db import Archive
from router.config.settings import Settings, parse_settings

BATCHES, PER_BATCH = 2, 60
TOKENS = {"alice": "alice-token-1234", "bob": "bob-token-12345", "carol": "carol-token-1234",
          "sue": "sue-token-12345"}


def settings(archive_url: str) -> Settings:
    carol = "  - id: carol\n    name: Carol\n    token: carol-token-1234\n    pools: [aftersale]\n    max_chats: 5\n"
    return parse_settings(BASIC.format(cap=100).replace("worker:\n", carol + "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 60
  sweep_interval_s: 3600
rate_limits:
  enabled: false
""", "<test>")


def expected(kind: str) -> dict[str, int]:
    """Who may read a conversation of each kind: mentioned (alice's, a note names bob),
    transferred (alice handed it to bob), plain (alice's alone)."""
    bob = 403 if kind == "plain" else 200
    return {"alice": 200, "bob": bob, "carol": 403, "sue": 200}


async def answers(http: aiohttp.ClientSession, base: str, cid: str) -> tuple[dict[str, int], set[bool]]:
    codes, archived = {}, set()
    for who, token in TOKENS.items():
        async with http.get(f"{base}/api/v1/conversations/{cid}",
                            headers={"Authorization": f"Bearer {token}"}) as r:
            codes[who] = r.status
            if r.status == 200:
                archived.add((await r.json())["archived"])
    return codes, archived


async def batch(http: aiohttp.ClientSession, base: str, alice: Socket, bob: Socket, n: int) -> dict[str, str]:
    """PER_BATCH customers write at once while bob is away, so alice takes them all; back online,
    bob is named in a note in a third and handed a third. Returns {cid: kind}."""
    await bob.send({"type": "status", "status": "away"})
    await bob.expect(lambda f: f["type"] == "status" and f["status"] == "away", start=len(bob.frames))
    before = len(alice.of("assigned"))
    socks = [(await customer(http, base))[0] for _ in range(PER_BATCH)]
    texts = [f"第{n}批第{i}位：订单20241120{n:04d}{i:04d}还没到" for i in range(PER_BATCH)]
    await asyncio.gather(*(s.send({"type": "message", "text": t, "client_msg_id": msg_id()})
                           for s, t in zip(socks, texts, strict=True)))
    got = (await alice.expect_count(lambda f: f["type"] == "assigned", before + PER_BATCH, timeout=60))[before:]
    await bob.send({"type": "status", "status": "online"})
    kinds: dict[str, str] = {}
    for i, f in enumerate(got):
        cid = f["conversation"]["id"]
        kind = ("mentioned", "transferred", "plain")[i % 3]
        kinds[cid] = kind
        if kind == "mentioned":
            await alice.send({"type": "note", "conversation_id": cid, "text": "@bob 你熟悉这个仓库，帮忙看看",
                              "client_msg_id": msg_id()})
            await bob.expect(lambda f, c=cid: f["type"] == "mention" and f["conversation_id"] == c)
        elif kind == "transferred":
            await alice.send({"type": "transfer", "conversation_id": cid, "to_agent": "bob"})
            await bob.expect(lambda f, c=cid: f["type"] == "assigned" and f["conversation"]["id"] == c)
    # Live: the readers as the live conversation knows them.
    for cid, kind in kinds.items():
        codes, archived = await answers(http, base, cid)
        assert (codes, archived) == (expected(kind), {False}), (cid, kind)
    for cid, kind in kinds.items():
        holder = bob if kind == "transferred" else alice
        await holder.send({"type": "close", "conversation_id": cid})
        await holder.expect(lambda f, c=cid: f["type"] == "closed" and f["conversation_id"] == c)
    for sock in socks:
        await sock.close()
    return kinds


async def test_an_archived_conversation_answers_whoever_could_read_it_live(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, TOKENS["alice"])
        bob = await agent(http, base, TOKENS["bob"])
        kinds: dict[str, str] = {}
        for n in range(BATCHES):
            kinds |= await batch(http, base, alice, bob, n)
        assert list(kinds.values()).count("transferred") == BATCHES * PER_BATCH // 3
        await wait_archived(rt, len(kinds))
        assert await rt.retention.sweep(now=time.time() + 3600) == len(kinds)

        # Archived: the same answers, from the archive alone.
        for cid, kind in kinds.items():
            assert not await rt.store.client.exists(rt.store.keys.conv(cid))
            codes, archived = await answers(http, base, cid)
            assert (codes, archived) == (expected(kind), {True}), (cid, kind)
        await alice.close()
        await bob.close()


async def test_a_row_archived_before_readers_were_kept_reads_them_from_its_transfers(archive_url: str) -> None:
    """Migration 0005 on an archive at 0004: a row with no `readers` has its agent and whoever
    transferred it away (its events), as before the column; new rows keep the whole list."""
    from test_archive_bot_turn import _alembic  # the same migration helper
    old = Archive(archive_url)
    try:
        async with old.engine.begin() as conn:
            await conn.run_sync(_alembic, "0004")
            await conn.execute(sa.text(
                "INSERT INTO conversations (id, version, customer_id, channel, state, agent, created, closed_at,"
                " archived_at) VALUES ('c_old', 1, 'u1', 'webchat', 'closed', 'bob', 1, 2, 3)"))
            await conn.execute(sa.text(
                "INSERT INTO events (conversation_id, seq, kind, at, agent, data) VALUES ('c_old', 0, 'transfer', 1,"
                " 'bob', '{\"kind\": \"transfer\", \"from\": \"alice\", \"to\": \"bob\", \"outcome\": \"assigned\"}')"))
    finally:
        await old.engine.dispose()
    archive = Archive(archive_url)
    try:
        await archive.migrate()
        row = await archive.conversation("c_old")
        assert row is not None and row["readers"] == ["alice", "bob"]
        async with archive.engine.begin() as conn:
            await conn.execute(sa.text("UPDATE conversations SET readers = '[\"bob\", \"carol\"]'"))
        row = await archive.conversation("c_old")
        assert row is not None and row["readers"] == ["bob", "carol"]
        async with archive.engine.begin() as conn:
            await conn.run_sync(_alembic, "0004", True)
            cols = await conn.run_sync(lambda c: [x["name"] for x in sa.inspect(c).get_columns("conversations")])
        assert "readers" not in cols
    finally:
        await archive.engine.dispose()
