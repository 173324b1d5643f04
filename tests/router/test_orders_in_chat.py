"""The orders panel agrees with the bot (issue 19, item 4): an order the customer proved to the bot in
this conversation, or their own order the bot answered about, is listed for it, although the
order service does not list it under the web visitor's customer id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from helpers.app import running
from helpers.bot_app import bot_settings, owner_token
from helpers.clients import Socket, customer, msg_id

SUE = {"Authorization": "Bearer sue-token-12345"}
SHIPPED = "2024111100012301"  # the demo customer's, buyer phone ...1234


def bot_lines(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.frames
            if f["type"] == "message" and f["message"]["from"] == "bot" and "欢迎光临" not in f["message"]["text"]]


async def ask(sock: Socket, text: str) -> str:
    before = len(bot_lines(sock))
    await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    await sock.expect_count(lambda f: f["type"] == "message" and f["message"]["from"] == "bot"
                            and "欢迎光临" not in f["message"]["text"], before + 1, timeout=15)
    return bot_lines(sock)[before]


async def only_conversation(rt: Any) -> tuple[str, str]:
    ids = await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1)
    [conv] = await rt.store.conversations.many(ids)
    return str(conv.id), str(conv.customer_id)


async def orders(http: aiohttp.ClientSession, base: str, cust: str, cid: str = "") -> tuple[int, Any]:
    q = f"?conversation={cid}" if cid else ""
    async with http.get(f"{base}/api/v1/customers/{cust}/orders{q}", headers=SUE) as r:
        return r.status, await r.json()


async def test_an_order_proved_with_the_phone_digits_is_listed_for_that_chat(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        sock, _ = await customer(http, base)
        assert "后4位" in await ask(sock, f"我的快递到哪了 {SHIPPED}")
        assert "已发货" in await ask(sock, "尾号1234")
        cid, cust = await only_conversation(rt)
        assert await orders(http, base, cust) == (200, {"orders": []})  # not theirs by the service
        status, body = await orders(http, base, cust, cid)
        assert status == 200
        assert [(o["id"], o.get("verified_in_chat")) for o in body["orders"]] == [(SHIPPED, True)]

        # Another customer's conversation does not lend its orders.
        other, _ = await customer(http, base)
        await ask(other, "包邮吗")
        ids = await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1)
        convs = await rt.store.conversations.many(ids)
        stranger = next(c for c in convs if c.id != cid)
        status, body = await orders(http, base, str(stranger.customer_id), cid)
        assert status == 400 and body["error"] == "bad_request"
        await sock.close()
        await other.close()


async def test_a_stranger_who_did_not_prove_it_gets_nothing(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        sock, _ = await customer(http, base)
        assert "后4位" in await ask(sock, f"我的快递到哪了 {SHIPPED}")
        cid, cust = await only_conversation(rt)
        assert await orders(http, base, cust, cid) == (200, {"orders": []})
        await sock.close()


async def test_the_owner_known_by_their_web_identity_sees_the_order_the_bot_answered(
        redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        sock, _ = await customer(http, base, owner_token(rt))
        assert "已发货" in await ask(sock, f"我的快递到哪了 {SHIPPED}")
        cid, cust = await only_conversation(rt)
        status, body = await orders(http, base, cust, cid)
        assert status == 200 and SHIPPED in [o["id"] for o in body["orders"]]
        await sock.close()
