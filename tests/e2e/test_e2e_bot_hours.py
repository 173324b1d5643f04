"""Business hours with a fixed clock: a greeting on first contact in hours; off hours an
`off_hours` frame saying when agents are back, and the conversation waits for the next shift."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from helpers.app import running
from helpers.bot_app import bot_settings
from helpers.clients import agent, customer, msg_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = """  hours:
    timezone: Asia/Shanghai
    days: mon-fri
    hours: "09:00-18:00"
"""


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp()


async def test_off_hours_reply_then_the_next_shift_takes_the_conversation(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: at("2024-11-20T23:30:00")  # a Wednesday night
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "在吗，我想问下衣服的事", "client_msg_id": msg_id()})
        off = await cust.expect(lambda f: f["type"] == "off_hours")
        assert off["back_at"] == at("2024-11-21T09:00:00")  # epoch seconds
        assert "明天 09:00" in off["text"]
        said = await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot")
        assert said["message"]["text"] == off["text"]  # every channel gets the text itself
        cid = off["conversation_id"]
        conv = await rt.store.conversation(cid)
        assert conv is not None and conv["state"] == "queued" and conv["bot"]["reason"] == "off_hours"

        # Another line in the night waits with it; the bot does not answer again.
        await cust.send({"type": "message", "text": "明天记得回我", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "queue")

        # Friday night to Monday morning: back_at skips the weekend.
        rt.bot.clock = lambda: at("2024-11-22T19:00:00")
        other, _ = await customer(http, base)
        await other.send({"type": "message", "text": "有人吗", "client_msg_id": msg_id()})
        off2 = await other.expect(lambda f: f["type"] == "off_hours")
        assert off2["back_at"] == at("2024-11-25T09:00:00")

        # The next shift: the first agent to come online gets the waiting conversation, whole.
        alice = await agent(http, base, "alice-token-1234")
        assigned = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        texts = [m["text"] for m in assigned["messages"] if m["from"] == "customer"]
        assert texts == ["在吗，我想问下衣服的事", "明天记得回我"]
        for s in (cust, other, alice):
            await s.close()


async def test_first_contact_in_hours_is_greeted(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: at("2024-11-20T10:00:00")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "包邮吗", "client_msg_id": msg_id()})
        frames = await cust.expect_count(
            lambda f: f["type"] == "message" and f["message"]["from"] == "bot", 2)
        assert "欢迎光临" in frames[0]["message"]["text"]
        assert "包邮" in frames[1]["message"]["text"]
        assert not cust.of("off_hours")
        await cust.close()
