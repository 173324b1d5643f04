"""The bot hands off on every trigger, to the pool the rules chose, and is silent once a person spoke."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from helpers.app import running
from helpers.bot_app import bot_config, bot_settings, owner_token
from helpers.clients import Socket, agent, customer, msg_id

from router.config.settings import parse_settings


async def say(sock: Socket, text: str) -> None:
    cmid = msg_id()
    await sock.send({"type": "message", "text": text, "client_msg_id": cmid})
    await sock.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cmid, timeout=5)


def bot_texts(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.of("message") if f["message"]["from"] == "bot"]


@pytest.mark.parametrize(("lines", "reason", "pool"), [
    (["转人工"], "human_request", "presale"),
    (["人工"], "human_request", "presale"),
    (["I want to talk to a human"], "human_request", "presale"),
    (["这件衣服我要退货"], "return_exchange", "aftersale"),
    (["我要退款"], "refund", "aftersale"),
    (["我要维权"], "complaint", "presale"),
    (["你们太垃圾了"], "angry", "presale"),
    (["紫色蝴蝶结代表什么意思"], "unanswered", "presale"),  # the FAQ has no answer: at once
])
async def test_handoff_trigger(redis_url: str, tmp_path: Path, lines: list[str], reason: str, pool: str) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        sue = await agent(http, base, "sue-token-12345")  # aftersale
        alice = await agent(http, base, "alice-token-1234")  # presale
        cust, _ = await customer(http, base)
        for n, line in enumerate(lines):
            await say(cust, line)
            if n < len(lines) - 1:  # a separate turn: wait for the bot's answer to this one
                await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot")
        who = sue if pool == "aftersale" else alice
        assigned = await who.expect(lambda f: f["type"] == "assigned", timeout=15)
        conv = assigned["conversation"]
        assert conv["pool"] == pool and conv["state"] == "assigned"
        assert conv["bot"]["reason"] == reason
        assert [m["text"] for m in assigned["messages"] if m["from"] == "customer"] == lines
        assert any(m.get("note") and reason in m["text"] for m in assigned["messages"])
        # The customer is told a person is coming.
        await cust.expect(lambda f: f["type"] == "agent")
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot")
        for s in (cust, sue, alice):
            await s.close()


async def test_bot_silent_after_a_human_reply_until_the_conversation_closes(redis_url: str, tmp_path: Path) -> None:
    # A reopen window of 4 s: a line within it continues the conversation, a later one starts anew.
    text = bot_config(tmp_path, "  idle_close_s: 3600\n").replace(
        "  claim_idle_ms: 1000\n", "  claim_idle_ms: 1000\n  reopen_window_s: 4\n")
    settings = parse_settings(text, "<bot-test>", base_dir=str(tmp_path))
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base, owner_token(rt))
        await say(cust, "转人工")
        assigned = await alice.expect(lambda f: f["type"] == "assigned", timeout=15)
        cid = assigned["conversation"]["id"]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "您好，我是Alice", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
        before = len(bot_texts(cust))
        # Questions the bot could answer now reach the agent, and only the agent.
        for q in ("包邮吗", "我的快递到哪了 2024111100012301"):
            await say(cust, q)
            await alice.expect(lambda f, q=q: f["type"] == "message" and f["message"]["text"] == q)
        await asyncio.sleep(1.0)  # well past the 0.3 s debounce window
        assert len(bot_texts(cust)) == before
        assert await rt.store.client.zcard(rt.store.keys.bot_due) == 0

        # Closed, and a line at once: the same conversation goes back to Alice, not to the bot.
        await alice.send({"type": "close", "conversation_id": cid})
        await cust.expect(lambda f: f["type"] == "closed")
        start = len(alice.frames)
        await say(cust, "还有个问题")
        again = await alice.expect(lambda f: f["type"] == "assigned", timeout=15, start=start)
        assert again["conversation"]["id"] == cid
        await asyncio.sleep(1.0)
        assert len(bot_texts(cust)) == before

        # Closed again, and back after the reopen window: a new conversation meets the bot again.
        start = len(cust.frames)
        await alice.send({"type": "close", "conversation_id": cid})
        await cust.expect(lambda f: f["type"] == "closed", start=start)
        await asyncio.sleep(4.5)
        await say(cust, "我的快递到哪了 2024111100012301")
        await cust.expect(lambda f: f["type"] == "message" and "北京转运中心" in f["message"]["text"])
        for s in (cust, alice):
            await s.close()


async def test_bot_silent_after_a_supervisor_steps_into_a_bot_conversation(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        await say(cust, "你好")
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot")
        cid = (await rt.store.client.zrange(rt.store.keys.conv_index, 0, 0))[0]
        sue = await agent(http, base, "sue-token-12345")  # a supervisor may write anywhere
        await sue.send({"type": "reply", "conversation_id": cid, "text": "您好，我来帮您看看", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
        before = len(bot_texts(cust))
        await say(cust, "包邮吗")
        # The conversation goes to people without another word from the bot.
        for _ in range(100):
            conv = await rt.store.conversations.get(cid)
            if conv and conv.state != "bot":
                break
            await asyncio.sleep(0.05)
        assert conv is not None and conv.state in ("queued", "assigned")
        assert conv.bot["reason"] == "human_replied"
        await asyncio.sleep(0.5)
        assert len(bot_texts(cust)) == before
        for s in (cust, sue):
            await s.close()
