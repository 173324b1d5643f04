"""Turn handling through a real `kefu serve`: two questions in one burst, the FAQ against the
order flow (both measures in the conversation's record), one product's stock, and a line sent
just after a close."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from helpers.bot_app import REPO, bot_config
from helpers.clients import Socket, agent, customer, msg_id
from helpers.procs import Serve
from helpers.traffic import close

SUE = "sue-token-12345"
SHIPPED = "2024111100012301"


def get(base: str, path: str, token: str = SUE) -> Any:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def bot_said(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.of("message") if f["message"]["from"] == "bot"]


async def say(sock: Socket, *lines: str, gap: float = 0.2) -> None:
    for n, line in enumerate(lines):
        if n:
            await asyncio.sleep(gap)
        await sock.send({"type": "message", "text": line, "client_msg_id": msg_id()})


async def settled(sock: Socket, pred: Any, timeout: float = 20) -> list[str]:
    """Wait until the bot said something matching `pred`, then until it goes quiet."""
    await sock.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot"
                      and pred(f["message"]["text"]), timeout=timeout)
    while True:
        n = len(sock.frames)
        await asyncio.sleep(0.5)
        if len(sock.frames) == n:
            return bot_said(sock)


async def conversation_of(base: str, sock: Socket) -> dict[str, Any]:
    cid = next(f["conversation_id"] for f in sock.frames if f.get("conversation_id"))
    body = await asyncio.to_thread(get, base, f"/api/v1/conversations/{cid}")
    return body["conversation"]  # type: ignore[no-any-return]


def serve(tmp_path: Path, redis_url: str, extra: str = "") -> Serve:
    config = tmp_path / "kefu.yaml"
    config.write_text(bot_config(tmp_path, extra, debounce_s=1.0))
    proc = Serve(config, redis_url, tmp_path)
    proc.wait_ready()
    return proc


async def test_arbitration_bursts_and_products_with_a_product_look_up(redis_url: str, tmp_path: Path) -> None:
    proc = serve(tmp_path, redis_url, f"  products: {REPO / 'config' / 'products-demo.yaml'}\n")
    try:
        async with aiohttp.ClientSession() as http:
            # The shop's courier is a policy question: the FAQ answers, no order number asked.
            a, _ = await customer(http, proc.base)
            await say(a, "发什么快递")
            said = await settled(a, lambda t: "中通" in t)
            assert not any("订单号" in t for t in said), said
            turn = (await conversation_of(proc.base, a))["bot_turn"]
            arb = turn["arbitration"]
            assert arb["choice"] == "faq" and arb["faq_id"] == "courier"
            assert arb["order_margin"] < 1.5 and arb["faq_score"] >= arb["faq_threshold"]
            # Where *my* parcel is goes to the order flow, in the same conversation.
            await say(a, "我的快递到哪了")
            said = await settled(a, lambda t: "订单号" in t)
            arb = (await conversation_of(proc.base, a))["bot_turn"]["arbitration"]
            assert arb["choice"] == "order" and arb["order_margin"] >= 1.5 and arb["faq_score"] is not None

            # Two questions within a second: both answered in one turn.
            b, _ = await customer(http, proc.base)
            await say(b, f"我的快递到哪了 {SHIPPED}", "这件连衣裙有M码吗")
            said = await settled(b, lambda t: "连衣裙" in t or SHIPPED in t)
            said = await settled(b, lambda t: "连衣裙" in t) if not any("连衣裙" in t for t in said) else said
            assert any(SHIPPED in t for t in said) and any("法式碎花连衣裙现有：杏色/M" in t for t in said), said
            conv = await conversation_of(proc.base, b)
            assert conv["state"] == "bot" and [p["topic"] for p in conv["bot_turn"]["parts"]] == [
                "order_status", "product"]

            # One product's colour: the look-up answers, not the washing-care FAQ entry.
            c, _ = await customer(http, proc.base)
            await say(c, "这件羽绒服有黑色吗？")
            said = await settled(c, lambda t: "羽绒服" in t)
            assert any("黑色/M" in t for t in said) and not any("洗" in t for t in said), said
            for s in (a, b, c):
                await s.close()
    finally:
        proc.stop()


async def test_a_burst_hands_on_the_question_the_bot_cannot_answer(redis_url: str, tmp_path: Path) -> None:
    proc = serve(tmp_path, redis_url)  # no product look-up: stock questions need a person
    try:
        async with aiohttp.ClientSession() as http:
            sock, _ = await customer(http, proc.base)
            await say(sock, "多久发货？", "这件羽绒服有黑色吗")
            said = await settled(sock, lambda t: "转接" in t)
            assert any("48小时" in t for t in said), said  # the shipping question is answered
            assert not any("洗" in t for t in said), said  # and the colour question is not guessed
            conv = await conversation_of(proc.base, sock)
            assert conv["state"] in ("queued", "assigned")
            assert conv["bot"]["reason"] == "product_question"
            assert "羽绒服有黑色吗" in conv["bot"]["note"] and "机器人已答复" in conv["bot"]["note"]
            await sock.close()
    finally:
        proc.stop()


async def test_a_line_soon_after_a_close_reopens_in_context(redis_url: str, tmp_path: Path) -> None:
    proc = serve(tmp_path, redis_url, "  idle_close_s: 1\n")
    try:
        async with aiohttp.ClientSession() as http:
            # The bot answered and the conversation closed as resolved by the bot.
            cust, _ = await customer(http, proc.base)
            await say(cust, "包邮吗")
            said = await settled(cust, lambda t: "包邮" in t)
            assert sum("欢迎光临" in t for t in said) == 1
            cid = next(f["conversation_id"] for f in cust.frames if f.get("conversation_id"))
            await cust.expect(lambda f: f["type"] == "closed", timeout=20)
            before = len(bot_said(cust))
            # "还有个问题" just after: the same conversation, no second greeting, no guessed entry.
            await say(cust, "还有个问题")
            said = await settled(cust, lambda t: "还有什么可以帮您" in t)
            assert not any("欢迎光临" in t for t in said[before:]), said[before:]
            assert not any("照片" in t or "拍" in t for t in said[before:]), said[before:]
            conv = await conversation_of(proc.base, cust)
            # (it may have closed again already: quiet for idle_close_s)
            assert conv["id"] == cid and conv["reopened"] >= 1 and conv["bot_turn"]["topic"] == "more"
            await say(cust, "发票怎么开")
            said = await settled(cust, lambda t: "发票" in t)
            assert sum("欢迎光临" in t for t in said) == 1, said  # still only the first one
            await cust.close()

            # A conversation a person held goes back to that person, not to the bot.
            alice = await agent(http, proc.base, "alice-token-1234")
            second, _ = await customer(http, proc.base)
            await say(second, "转人工")
            assigned = await alice.expect(lambda f: f["type"] == "assigned", timeout=20)
            cid2 = assigned["conversation"]["id"]
            await second.expect(lambda f: f["type"] == "message" and "转接" in f["message"]["text"], timeout=15)
            await close(alice, second, cid2)
            n_bot = len(bot_said(second))
            start = len(alice.frames)
            await say(second, "还有个问题")
            again = await alice.expect(lambda f: f["type"] == "assigned", timeout=20, start=start)
            assert again["conversation"]["id"] == cid2 and again["conversation"]["reopened"] == 1
            await asyncio.sleep(1.5)  # past the debounce window: a bot turn would have answered
            assert len(bot_said(second)) == n_bot, bot_said(second)[n_bot:]
            await second.close()
            await alice.close()
    finally:
        proc.stop()
