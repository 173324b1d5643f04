"""After hours with an agent still online (issue 19, item 1): the bot hands off first and, when the
agent took the chat, says the ordinary handoff line; no off-hours notice and no `off_hours` frame.
With nobody in, the notice and the frame (with the shop's time zone) are as before."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from helpers.app import running
from helpers.bot_app import bot_settings
from helpers.clients import Socket, agent, customer, msg_id

from router.bot.brain_texts import BotTexts

HOURS = """  hours:
    timezone: Asia/Shanghai
    days: mon-fri
    hours: "09:00-18:00"
"""
NIGHT = datetime(2024, 11, 20, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def bot_texts(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.frames if f["type"] == "message" and f["message"]["from"] == "bot"]


async def test_an_agent_who_takes_it_after_hours_means_no_off_hours_notice(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: NIGHT
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "转人工", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "assigned")
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["text"] == BotTexts().handoff)
        await cust.expect(lambda f: f["type"] == "agent")
        assert not [f for f in cust.frames if f["type"] == "off_hours"]
        assert not [t for t in bot_texts(cust) if "09:00" in t]
        await alice.close()
        await cust.close()


async def test_with_nobody_in_the_notice_and_the_frame_say_when_in_the_shops_zone(
        redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: NIGHT
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "转人工", "client_msg_id": msg_id()})
        frame = await cust.expect(lambda f: f["type"] == "off_hours", timeout=15)
        assert frame["timezone"] == "Asia/Shanghai"
        assert frame["back_at"] == datetime(2024, 11, 21, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
        # The notice goes through the outbox, so it may land after the frame.
        await cust.expect(lambda f: f["type"] == "message" and "明天 09:00" in f["message"]["text"])
        await cust.close()
