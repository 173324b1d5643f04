"""`kefu archive backfill` writes what an earlier version left in Redis (closed conversations no
archive ever saw), with progress, once; `kefu archive prune` deletes what is older than
`retention.archive_days`, with its messages, events and search rows. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from helpers.redis_server import RedisServer
from helpers.traffic import many

from router.archive.db import Archive
from router.archive.schema import conversations
from router.archive.tokens import tokens
from router.config.settings import parse_settings
from router.store import Store

CLOSED = 150
OPEN = 3
UNREACHABLE = "postgresql://postgres@127.0.0.1:9/nowhere"
"""An archive that never answers: the conversations stay in Redis only, as before the archive."""


def config(archive_url: str) -> str:
    return BASIC.format(cap=100).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
retention:
  archive_days: 30
"""


async def leave_history(redis_url: str) -> tuple[list[str], list[str], dict[str, list[tuple[str, str]]]]:
    """Conversations closed and open in Redis with no archive, then made to look like an earlier
    version's: no archive queue and no close versions."""
    settings = parse_settings(config(UNREACHABLE), "<test>")
    async with running(settings, redis_url) as (_, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        done = await many(http, base, alice, CLOSED, 30)
        open_ids = []
        for _ in range(OPEN):
            cust, _ = await customer(http, base)
            start = len(alice.frames)
            await cust.send({"type": "message", "text": "还在吗", "client_msg_id": msg_id()})
            got = await alice.expect(lambda f: f["type"] == "assigned", start=start)
            open_ids.append(got["conversation"]["id"])
            await cust.close()
        await alice.close()
    store = Store(redis_url)
    await store.open()
    try:
        k = store.keys
        await store.client.delete(k.archive_queue)
        for d in done:
            await store.client.hdel(k.conv(d.cid), "archive_v", "archived_v")
    finally:
        await store.close()
    return [d.cid for d in done], open_ids, {d.cid: d.lines for d in done}


def kefu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    return subprocess.run([sys.executable, "-m", "router", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=True)


async def test_backfill_then_prune(redis_server: RedisServer, archive_url: str, tmp_path: Path) -> None:
    closed, still_open, lines = await leave_history(redis_server.url)
    cfg = tmp_path / "kefu.yaml"
    cfg.write_text(config(archive_url))
    common = ["--config", str(cfg), "--redis-url", redis_server.url, "--data-dir", str(tmp_path)]

    run = await asyncio.to_thread(kefu, "archive", "backfill", *common, cwd=tmp_path)
    total = CLOSED + OPEN
    assert f"backfill: {CLOSED} conversations written to the archive" in run.stdout
    assert f"{OPEN} were open or already there" in run.stdout
    # Progress, a line per tenth when not on a terminal, ending at the whole.
    progress = [line for line in run.stderr.splitlines() if line.startswith("[")]
    assert 5 <= len(progress) <= 12 and progress[-1].startswith(f"[{'#' * 30}] {total}/{total} conversations")
    assert f"{CLOSED} written" in progress[-1]

    archive = Archive(archive_url)
    try:
        assert await archive.count() == CLOSED
        for cid in closed:
            row = await archive.conversation(cid)
            assert row is not None and [(m["from"], m["text"]) for m in row["messages"]] == lines[cid]
        for cid in still_open:
            assert await archive.version(cid) is None
        store = Store(redis_server.url)
        await store.open()
        try:
            # Marked archived, so retention may now let them go.
            assert await store.client.zcard(store.keys.archive_done) == CLOSED
        finally:
            await store.close()

        again = await asyncio.to_thread(kefu, "archive", "backfill", *common, cwd=tmp_path)
        assert "backfill: 0 conversations written" in again.stdout
        assert await archive.count() == CLOSED

        # Prune: a third of them closed 40 days ago, past archive_days (30).
        old = closed[::3]
        async with archive.engine.begin() as conn:
            await conn.execute(sa.update(conversations).where(conversations.c.id.in_(old))
                               .values(closed_at=conversations.c.closed_at - 40 * 86400))
        pruned = await asyncio.to_thread(kefu, "archive", "prune", *common, cwd=tmp_path)
        assert f"prune: {len(old)} conversations closed more than 30 days ago deleted" in pruned.stdout
        assert await archive.count() == CLOSED - len(old)
        for cid in old:
            assert await archive.conversation(cid) is None
        kept = [cid for cid in closed if cid not in set(old)]
        assert await archive.conversation(kept[0]) is not None
        # Their messages, events and search rows went with them.
        async with archive.engine.connect() as conn:
            for table in ("messages", "events"):
                n = (await conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE conversation_id IN "
                                                f"({', '.join(repr(c) for c in old)})"))).scalar_one()
                assert n == 0, table
        for cid in (old[0], kept[0]):
            order = lines[cid][0][1].split("还")[0]  # 订单2024112000000NNN
            hits = await archive.search(tokens(order), None, None, None, 10)
            assert [h["conversation_id"] for h in hits] == ([] if cid in old else [cid])
        again = await asyncio.to_thread(kefu, "archive", "prune", *common, cwd=tmp_path)
        assert "prune: 0 conversations" in again.stdout
    finally:
        await archive.aclose()
