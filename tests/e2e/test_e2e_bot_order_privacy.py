"""Order details on web chat only for the order's owner: a stranger who types someone's order
number is asked for the buyer's phone digits and learns nothing, not even whether it exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from helpers.app import running
from helpers.bot_app import bot_settings, owner_token
from helpers.clients import Socket, agent, customer, msg_id

from router.bot.brain_texts import BotTexts

TEXTS = BotTexts()
SHIPPED, PAID = "2024111100012301", "2024111100012302"  # customer demo's, buyer phone ...1234
NOBODYS = "2099010100000001"
# Anything the demo file knows about those two orders that a reply could give away.
SECRETS = ("已发货", "待发货", "中通", "75310012345678", "转运中心", "浙江", "大衣", "牛仔裤", "599",
           "没有查到", "发货", "拒收")


def is_answer(f: dict[str, Any]) -> bool:
    """A bot line other than the greeting that opens the first turn."""
    return f["type"] == "message" and f["message"]["from"] == "bot" and "欢迎光临" not in f["message"]["text"]


def bot_lines(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.frames if is_answer(f)]


async def say(sock: Socket, text: str) -> None:
    await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})


async def next_bot_line(sock: Socket) -> str:
    before = len(bot_lines(sock))
    frames = await sock.expect_count(is_answer, before + 1)
    return str(frames[before]["message"]["text"])


def leaked(sock: Socket) -> list[str]:
    """Secrets found in any text the customer's page received (texts only: a random id or a
    timestamp may well hold "599")."""
    texts = [str(f.get("text", "")) + str((f.get("message") or {}).get("text", "")) for f in sock.frames]
    return [s for s in SECRETS if any(s in t for t in texts)]


async def test_the_owner_sees_the_order(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base, owner_token(rt))
        await say(cust, f"我的快递到哪了 {SHIPPED}")
        line = await next_bot_line(cust)
        assert "已发货" in line and "北京转运中心" in line
        await cust.close()


async def test_a_stranger_is_asked_to_verify_and_learns_nothing(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        replies = []
        for text in (f"我的快递到哪了 {SHIPPED}", f"我想取消订单 {PAID}", f"查一下订单 {NOBODYS} 到哪了"):
            await say(cust, text)
            replies.append(await next_bot_line(cust))
        assert leaked(cust) == []
        # One and the same question for an order of someone else's and for no order at all.
        assert replies == [TEXTS.verify_ask.format(order_id=o) for o in (SHIPPED, PAID, NOBODYS)]
        # Cancellation asked for verification too: the conversation is still the bot's.
        conv = (await rt.store.conversations.many(await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1)))[0]
        assert conv.state == "bot" and conv.bot is None
        await cust.close()


async def test_the_buyers_phone_digits_unlock_it(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        await say(cust, f"我的快递到哪了 {SHIPPED}")
        assert "后4位" in await next_bot_line(cust)
        await say(cust, "尾号1234")
        line = await next_bot_line(cust)
        assert "已发货" in line and "北京转运中心" in line
        await cust.close()


async def test_wrong_digits_run_out_and_a_person_takes_over(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        bob = await agent(http, base, "bob-token-12345")
        cust, _ = await customer(http, base)
        await say(cust, f"我想取消订单 {PAID}")
        assert "后4位" in await next_bot_line(cust)
        for code in ("0000", "4321"):
            await say(cust, code)
            assert "核对未通过" in await next_bot_line(cust)
        await say(cust, "9999")
        assert await next_bot_line(cust) == TEXTS.verify_failed
        assigned = await bob.expect(lambda f: f["type"] == "assigned", timeout=15)
        conv = assigned["conversation"]
        assert conv["bot"]["reason"] == "order_unverified" and conv["bot"]["order_id"] == PAID
        await say(cust, "1234")  # too late for the bot: it goes to the agent, unanswered by the bot
        await bob.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "1234")
        assert leaked(cust) == []
        await cust.close()
        await bob.close()


async def test_two_chats_that_verify_one_order_are_one_customer(redis_url: str, tmp_path: Path) -> None:
    """The buyer's phone digits prove who wrote: a second device that verifies the same order is
    linked to the first one's customer (issue 16), and the link can be undone like any merge."""
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        ids = []
        for _ in range(2):
            cust, token = await customer(http, base)
            await say(cust, f"我的快递到哪了 {SHIPPED}")
            assert "后4位" in await next_bot_line(cust)
            await say(cust, "尾号1234")
            assert "已发货" in await next_bot_line(cust)
            visitor = rt.signer.verify(token)
            ids.append(await rt.store.customers.by_identity("webchat", "web", visitor))
            await cust.close()
        first, second = ids
        assert first and second and first == second
        found = await rt.store.customer(first) or {}
        assert f"order::{SHIPPED}" in found["identities"] and len(
            [i for i in found["identities"] if i.startswith("webchat:")]) == 2
        merged = await rt.store.customers.merged_ids(first)
        assert len(merged) == 1  # the second device's own customer, kept for an unmerge
