"""The archive keeps the bot's decision record: every turn's record in the conversation's events
(kind `bot_turn`), the last one beside `bot` as the live conversation has it, and the CSV export
says why the bot answered or handed on. On SQLite and on a private PostgreSQL database."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from helpers.app import running
from helpers.bot_app import REPO, bot_config
from helpers.clients import Socket, agent, customer, msg_id
from helpers.traffic import close

from router.archive.db import Archive
from router.config.settings import parse_settings

SUE = {"Authorization": "Bearer sue-token-12345"}


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (got := await check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
    return got


async def bot_says(cust: Socket, text: str, words: str) -> None:
    """Send `text`; wait for a bot message holding `words` (the greeting comes first)."""
    start = len(cust.frames)
    await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot"
                      and words in f["message"]["text"], start=start)


async def test_an_archived_conversation_shows_each_bot_turn(redis_url: str, archive_url: str, tmp_path: Path) -> None:
    text = bot_config(tmp_path, f"  faq: {REPO / 'config' / 'faq.yaml'}\n") + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 86400
  sweep_interval_s: 3600
"""
    settings = parse_settings(text, "<test>", base_dir=str(tmp_path))
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await bot_says(cust, "包邮吗", "包邮")  # turn 1: the FAQ answers
        start = len(alice.frames)
        await cust.send({"type": "message", "text": "转人工", "client_msg_id": msg_id()})  # turn 2: hands on
        cid = (await alice.expect(lambda f: f["type"] == "assigned", start=start))["conversation"]["id"]
        # The record of the handing-off turn is written when the turn ends, just after the move.
        await until(lambda: _last_topic(rt, cid, "human"))
        await close(alice, cust, cid)
        await until(lambda: _archived(rt, cid))

        # Redis lets go of it; the API answers from the archive with the record and every turn.
        assert await rt.retention.sweep(now=time.time() + 86400 + 1) == 1
        async with http.get(f"{base}/api/v1/conversations/{cid}", headers=SUE) as r:
            assert r.status == 200
            body = await r.json()
        conv = body["conversation"]
        assert body["archived"] is True
        assert conv["bot"]["reason"] == "human_request"
        assert conv["bot_turn"]["topic"] == "human"
        turns = [e["turn"] for e in (await rt.archive.conversation(cid) or {})["events"] if e["kind"] == "bot_turn"]
        assert [t["topic"] for t in turns] == ["other", "human"]
        assert (turns[0]["faq_id"], turns[0]["faq_score"] >= 0.45) == ("free-shipping", True)

        async with http.get(f"{base}/api/v1/reports/export.csv?from={time.time() - 600}&to={time.time() + 1}",
                            headers=SUE) as r:
            assert r.status == 200
            rows = list(csv.DictReader(io.StringIO(await r.text())))
        [row] = [x for x in rows if x["id"] == cid]
        assert (row["bot_outcome"], row["bot_reason"], row["bot_topic"]) == ("handed_off", "human_request", "human")


async def _last_topic(rt: Any, cid: str, topic: str) -> bool:
    conv = await rt.store.conversation(cid)
    return bool(conv and (conv.get("bot_turn") or {}).get("topic") == topic)


async def _archived(rt: Any, cid: str) -> bool:
    await asyncio.wait_for(rt.archive.ready.wait(), 30)
    return await rt.archive.version(cid) is not None


def _alembic(sync_conn: Any, target: str, down: bool = False) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("router.archive").joinpath("migrations")))
    cfg.attributes["connection"] = sync_conn
    (command.downgrade if down else command.upgrade)(cfg, target)


async def test_an_archive_from_before_the_record_is_migrated_in_place(archive_url: str) -> None:
    """Migration 0004 on a database at 0003 holding a conversation: the row stays and reads with
    no record; new rows keep theirs; downgrade drops the column again."""
    old = Archive(archive_url)
    try:
        async with old.engine.begin() as conn:
            await conn.run_sync(_alembic, "0003")
            await conn.execute(sa.text(
                "INSERT INTO conversations (id, version, customer_id, channel, state, created, closed_at, archived_at,"
                " bot) VALUES ('c_old', 1, 'u1', 'webchat', 'closed', 1, 2, 3, '{\"reason\": \"refund\"}')"))
    finally:
        await old.engine.dispose()
    archive = Archive(archive_url)
    try:
        await archive.migrate()  # what every process does at start
        row = await archive.conversation("c_old")
        assert row is not None and row["bot"] == {"reason": "refund"} and row["bot_turn"] is None
        async with archive.engine.begin() as conn:
            await conn.execute(sa.text("UPDATE conversations SET bot_turn = '{\"topic\": \"refund\"}'"))
        row = await archive.conversation("c_old")
        assert row is not None and row["bot_turn"] == {"topic": "refund"}
        async with archive.engine.begin() as conn:
            await conn.run_sync(_alembic, "0003", True)
            cols = await conn.run_sync(lambda c: [x["name"] for x in sa.inspect(c).get_columns("conversations")])
        assert "bot_turn" not in cols and "bot" in cols
    finally:
        await archive.engine.dispose()
