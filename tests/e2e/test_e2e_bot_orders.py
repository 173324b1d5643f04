"""The bot answers order questions on web chat from the demo order file, and hands off cancellations."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from helpers.app import running
from helpers.bot_app import bot_settings, owner_token
from helpers.clients import Socket, agent, customer, msg_id


def bot_lines(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.of("message") if f["message"]["from"] == "bot"]


async def say(sock: Socket, text: str) -> None:
    await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})


async def test_where_is_my_order_answers_status_and_latest_tracking(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base, owner_token(rt))
        await say(cust, "我的快递到哪了")
        await cust.expect(lambda f: f["type"] == "message" and "订单号" in f["message"]["text"])
        await say(cust, "2024111100012301")
        got = await cust.expect(lambda f: f["type"] == "message" and "北京转运中心" in f["message"]["text"])
        assert got["message"]["from"] == "bot"
        assert "已发货" in got["message"]["text"] or "发货" in got["message"]["text"]
        convs = await rt.store.conversations.many(await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1))
        assert [c.state for c in convs] == ["bot"]
        await cust.close()


@pytest.mark.parametrize(("order", "reason", "says"), [
    ("2024111100012302", "cancel_not_shipped", "还没有发货"),  # paid, not shipped
    ("2024111100012301", "cancel_shipped", "拒收"),  # shipped: refuse delivery or return
])
async def test_cancel_hands_off_to_aftersale_with_the_order(
    redis_url: str, tmp_path: Path, order: str, reason: str, says: str,
) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        bob = await agent(http, base, "bob-token-12345")
        cust, _ = await customer(http, base, owner_token(rt))
        await say(cust, f"我想取消订单 {order}")
        assigned = await bob.expect(lambda f: f["type"] == "assigned", timeout=15)
        conv = assigned["conversation"]
        assert conv["pool"] == "aftersale" and conv["agent"] == "bob"
        assert conv["bot"]["reason"] == reason and conv["bot"]["order_id"] == order
        notes = [m for m in assigned["messages"] if m.get("note")]
        assert notes and order in notes[0]["text"]
        await cust.expect(lambda f: f["type"] == "message" and says in f["message"]["text"])
        await cust.close()
        await bob.close()


async def test_cancel_unpaid_explains_self_service_and_keeps_the_bot(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base, owner_token(rt))
        await say(cust, "我想取消订单 2024111500045601")
        await cust.expect(lambda f: f["type"] == "message" and "还没有付款" in f["message"]["text"])
        conv = (await rt.store.conversations.many(await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1)))[0]
        assert conv.state == "bot" and conv.bot is None
        await cust.close()


async def test_the_demo_answers_order_questions_with_the_bot(redis_url: str, tmp_path: Path) -> None:
    from router.config.demo import demo_settings

    async with running(demo_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base, owner_token(rt))
        await say(cust, "我的快递到哪了 2024111100012301")
        got = await cust.expect(lambda f: f["type"] == "message" and "北京转运中心" in f["message"]["text"])
        assert got["message"]["from"] == "bot"
        conv = (await rt.store.conversations.many(await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1)))[0]
        assert conv.decision["rule"] in ("logistics", "order-status")
        await cust.close()
