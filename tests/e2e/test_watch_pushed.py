"""A supervisor's live reading is pushed (issue 19): `watched` frames come as lines land in the
transcript, from the customer, the agent and notes, with no reads on a timer: the transcript is
read once per line landed, and not at all while nothing happens."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id

from router.config.settings import parse_settings
from router.store.transcripts import Transcripts

LINES = 200


async def test_watched_lines_arrive_without_polling(redis_url: str, monkeypatch: Any) -> None:
    reads: list[str] = []
    real_after = Transcripts.after

    async def counted(self: Transcripts, cid: str, entry_id: str, count: int) -> list[tuple[str, str]]:
        reads.append(cid)
        return await real_after(self, cid, entry_id, count)

    monkeypatch.setattr(Transcripts, "after", counted)
    settings = parse_settings(BASIC.format(cap=5) + "rate_limits:\n  enabled: false\n", "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        sue = await agent(http, base, "sue-token-12345")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "你好，想问下退货", "client_msg_id": msg_id()})
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await sue.send({"type": "watch", "conversation_id": cid})
        await sue.expect(lambda f: f["type"] == "watched" and f["conversation_id"] == cid)

        # Nothing happens for two seconds: nothing is read (a 0.5 s poll read four times).
        before = len(reads)
        await asyncio.sleep(2.0)
        assert reads[before:] == []

        # Lines from the customer, the agent and notes, each shown once, in order, soon.
        sent: list[str] = []
        for n in range(LINES):
            text = f"第{n}行"
            if n % 3 == 0:
                await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
            elif n % 3 == 1:
                await alice.send({"type": "reply", "conversation_id": cid, "text": text, "client_msg_id": msg_id()})
            else:
                await alice.send({"type": "note", "conversation_id": cid, "text": text, "client_msg_id": msg_id()})
            sent.append(text)
            await sue.expect(lambda f, t=text: f["type"] == "watched" and any(m["text"] == t for m in f["messages"]),
                             timeout=5)
        shown = [m["text"] for f in sue.of("watched") for m in f["messages"] if m["text"].startswith("第")]
        assert shown == sent
        # One read per line landed at most (a reply's delivery status is not a line), plus none idle.
        assert len(reads) - before <= LINES
        idle = len(reads)
        await asyncio.sleep(1.5)
        assert len(reads) == idle
        for s in (alice, sue, cust):
            await s.close()
