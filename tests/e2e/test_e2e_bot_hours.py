"""Business hours with a fixed clock: a greeting on first contact in hours; off hours an
`off_hours` frame saying when agents are back, and the conversation waits for the next shift,
whether the rules sent it to the bot first or straight to people."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from helpers.app import running
from helpers.bot_app import bot_settings
from helpers.clients import Socket, agent, customer, msg_id

from router.runtime import Runtime

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOURS = """  hours:
    timezone: Asia/Shanghai
    days: mon-fri
    hours: "09:00-18:00"
"""


PEOPLE_FIRST = "default: {pool: presale}\n"  # no `bot: true`: straight to a queue


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
        conv = await rt.store.conversations.get(cid)
        # The FAQ cannot answer it: handed on at once (the shipped default), parked for the next
        # shift with what the bot learned.
        assert conv is not None and conv.state == "queued" and conv.bot["reason"] == "unanswered"
        assert "FAQ候选" in conv.bot["note"]

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


def bot_says(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.of("message") if f["message"]["from"] == "bot"]


async def routed_all(rt: Runtime) -> None:
    """Wait (bounded) until the route worker acked every line, with whatever it does after routing."""
    for _ in range(200):
        if await rt.store.client.xlen(rt.store.keys.inbound) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("lines still waiting to be routed")


async def test_off_hours_notice_when_the_rules_send_it_straight_to_people(redis_url: str, tmp_path: Path) -> None:
    settings = bot_settings(tmp_path, HOURS, rules_text=PEOPLE_FIRST)
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: at("2024-11-20T23:30:00")  # a Wednesday night, nobody online
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "我想改一下收货地址", "client_msg_id": msg_id()})
        off = await cust.expect(lambda f: f["type"] == "off_hours")
        assert off["back_at"] == at("2024-11-21T09:00:00") and "明天 09:00" in off["text"]
        said = await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot")
        assert said["message"]["text"] == off["text"]  # the bot-first path's wording, word for word
        cid = off["conversation_id"]
        conv = await rt.store.conversations.get(cid)
        assert conv is not None and conv.state == "queued" and conv.bot is None  # never the bot's

        # Once per conversation: the next line waits with it, without a second notice.
        await cust.send({"type": "message", "text": "是同城的地址", "client_msg_id": msg_id()})
        await routed_all(rt)

        # Morning: the agent gets it and writes; replies keep their order, so by the time the
        # customer sees the agent's line any second notice would have arrived before it.
        rt.bot.clock = lambda: at("2024-11-21T09:05:00")
        alice = await agent(http, base, "alice-token-1234")
        await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid)
        await alice.send({"type": "reply", "conversation_id": cid, "text": "早上好", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "早上好")
        assert len(cust.of("off_hours")) == 1 and bot_says(cust) == [off["text"]]

        # In hours, a conversation that waits in the queue gets no notice.
        other, _ = await customer(http, base)
        await alice.send({"type": "status", "status": "away"})
        await other.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        await other.expect(lambda f: f["type"] == "queue")
        await routed_all(rt)
        await alice.send({"type": "status", "status": "online"})
        got = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != cid)
        await alice.send({"type": "reply", "conversation_id": got["conversation"]["id"], "text": "您好",
                          "client_msg_id": msg_id()})
        await other.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "您好")
        assert not other.of("off_hours") and bot_says(other) == []
        for s in (cust, other, alice):
            await s.close()
