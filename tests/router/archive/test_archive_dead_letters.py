"""A poison conversation does not block the archive queue: after `archive.max_tries` failed tries
with the database up it moves to the archive's dead letters (the API and `kefu dead-letters`
show it) and everything behind it is archived. A database outage, however long, dead-letters
nothing (tests/router/archive/test_archive_retention.py takes PostgreSQL away for 20 s)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer
from helpers.pg import private_database
from helpers.traffic import chat, close, many
from test_archive_write import until

from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

ADMIN = {"Authorization": "Bearer ada-token-123456"}
ADA = """agents:
  - id: ada
    name: Ada
    token: ada-token-123456
    role: admin
    pools: [aftersale]
"""


def settings(archive_url: str, max_tries: int = 3) -> Settings:
    base = BASIC.format(cap=50).replace("worker:\n", "worker:\n  reopen_window_s: 0\n").replace("agents:\n", ADA)
    return parse_settings(base + f"""
archive:
  url: {archive_url}
  batch_size: 20
  max_tries: {max_tries}
""", "<test>")


async def poisoned(rt: Runtime, base: str, http: aiohttp.ClientSession, alice_token: str) -> str:
    """A conversation whose Redis record the archive cannot read (a trail entry that is not JSON,
    as a bad write by some older version would leave), closed."""
    alice = await agent(http, base, alice_token)
    cust, _ = await customer(http, base)
    cid = await chat(cust, alice, ["我的快递破损了"], ["亲，马上为您处理"])
    await rt.store.client.rpush(rt.store.keys.conv_trail(cid), "{not json")
    await close(alice, cust, cid)
    await cust.close()
    await alice.close()
    return cid


async def dead_count(rt: Runtime) -> int:
    return int(await rt.store.client.xlen(rt.store.keys.archive_dead_letters))


async def test_a_poison_conversation_goes_to_the_dead_letters_and_the_rest_are_archived(
        redis_url: str, archive_url: str, tmp_path: Path) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        await asyncio.wait_for(rt.archive.ready.wait(), 60)
        bad = await poisoned(rt, base, http, "alice-token-1234")
        alice = await agent(http, base, "alice-token-1234")
        # Hundreds of good ones around it, many in the same batches as the poison entry's tries.
        done = await many(http, base, alice, 200, 40)
        await until(lambda: dead_count(rt), timeout=60)
        await until(lambda: all_archived(rt, [d.cid for d in done]), timeout=120)
        await until(lambda: queue_empty(rt), timeout=30)
        assert await rt.archive.version(bad) is None
        for d in done[::20]:
            row = await rt.archive.conversation(d.cid)
            assert row is not None and [(m["from"], m["text"]) for m in row["messages"]] == d.lines
        assert await rt.store.client.hlen(rt.store.keys.archive_tries) == 0
        assert not rt.archiver.outage

        async with http.get(f"{base}/api/v1/dead-letters?stream=archive", headers=ADMIN) as r:
            assert r.status == 200
            body = await r.json()
        assert list(body) == ["archive"] and body["archive"]["count"] == 1
        entry = body["archive"]["entries"][0]
        assert entry["fields"]["cid"] == bad and entry["tries"] == 3
        assert f"cannot read conversation {bad} from Redis: JSONDecodeError" in entry["reason"]
        async with http.get(f"{base}/api/v1/dead-letters", headers=ADMIN) as r:
            assert set(await r.json()) == {"inbound", "outbound", "archive"}
        async with http.get(f"{base}/api/v1/dead-letters?stream=sideways", headers=ADMIN) as r:
            assert r.status == 400 and "inbound, outbound, archive" in json.dumps(await r.json())
        async with http.get(f"{base}/readyz") as r:
            assert (await r.json())["dead_letters"]["archive"] == 1
        await alice.close()

        env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        out = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "router", "dead-letters", "--stream", "archive", "--redis-url", redis_url,
            "--data-dir", str(tmp_path)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
            check=True)
        lines = out.stdout.splitlines()
        assert lines[0] == "archive: 1 dead letter" and "tries 3  cannot read conversation" in lines[1]


async def test_a_row_the_database_refuses_is_dead_lettered_on_its_own(redis_url: str) -> None:
    """PostgreSQL up but refusing one conversation's row (an account id longer than its column,
    as a record from some other writer could hold): that one goes aside after its tries, the
    conversations in the same batches are written, and a customer's NUL character is not a
    refusal (PostgreSQL text cannot hold one; the archive keeps U+FFFD)."""
    async with private_database() as url, running(settings(url, max_tries=2), redis_url) as (rt, base), \
            aiohttp.ClientSession() as http:
        await asyncio.wait_for(rt.archive.ready.wait(), 60)
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        cid = await chat(cust, alice, ["有货吗"], ["有的"])
        await rt.store.client.hset(rt.store.keys.conv(cid), "account", "x" * 100)
        await close(alice, cust, cid)
        await cust.close()
        nul, _ = await customer(http, base)
        odd = await chat(nul, alice, ["订单\u0000号是多少"], ["稍等"])
        await close(alice, nul, odd)
        await nul.close()
        done = await many(http, base, alice, 60, 20)
        await until(lambda: dead_count(rt), timeout=60)
        await until(lambda: all_archived(rt, [odd] + [d.cid for d in done]), timeout=60)
        [(_, entry)] = await rt.store.client.xrange(rt.store.keys.archive_dead_letters)
        assert json.loads(entry["fields"])["cid"] == cid and entry["tries"] == "2"
        assert entry["reason"].startswith(f"the archive refused conversation {cid}: DBAPIError: ")
        assert "value too long" in entry["reason"] and "INSERT" not in entry["reason"]
        assert await rt.archive.version(cid) is None and not rt.archiver.outage
        row = await rt.archive.conversation(odd)
        assert row is not None and row["messages"][0]["text"] == "订单\ufffd号是多少"
        await alice.close()


async def all_archived(rt: Runtime, cids: list[str]) -> bool:
    for cid in cids:
        if await rt.archive.version(cid) is None:
            return False
    return True


async def queue_empty(rt: Runtime) -> bool:
    return await rt.archiver.backlog() == 0
