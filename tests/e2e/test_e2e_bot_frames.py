"""Issue 18, fourth round, through a real `kefu serve` with rules shaped like the shipped ones:
a general question about refunds is answered by the bot; the customer's own case gone wrong goes
straight to after-sale people; rhetorical blame raises the FAQ's bar, and the record says why."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from helpers.bot_app import bot_config
from helpers.clients import Socket, agent, customer, msg_id
from helpers.procs import Serve

# The shipped rules' after-sale part (config/routing.yaml), on the test's pools.
RULES = """
default: {pool: presale, bot: true}
rules:
  - name: grievance
    when: {intent: grievance}
    then: {pool: aftersale, human: true, tags: [grievance]}
  - name: return-refund
    when:
      all:
        - intent: [return_exchange, refund]
        - not: {intent: policy_question}
    then: {pool: aftersale, human: true}
"""


def bot_said(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.of("message") if f["message"]["from"] == "bot"]


async def say(sock: Socket, line: str) -> None:
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


def get(base: str, path: str, token: str = "sue-token-12345") -> Any:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


async def conversation_of(base: str, sock: Socket) -> dict[str, Any]:
    cid = next(f["conversation_id"] for f in sock.frames if f.get("conversation_id"))
    body = await asyncio.to_thread(get, base, f"/api/v1/conversations/{cid}")
    return body["conversation"]  # type: ignore[no-any-return]


async def test_policy_answered_grievance_to_people_reproach_recorded(redis_url: str, tmp_path: Path) -> None:
    config = tmp_path / "kefu.yaml"
    config.write_text(bot_config(tmp_path, debounce_s=1.0, rules_text=RULES))
    proc = Serve(config, redis_url, tmp_path)
    proc.wait_ready()
    try:
        async with aiohttp.ClientSession() as http:
            sue = await agent(http, proc.base, "sue-token-12345")  # aftersale
            alice = await agent(http, proc.base, "alice-token-1234")  # presale

            # How refunds work here: the bot answers from the FAQ and keeps the conversation.
            a, _ = await customer(http, proc.base)
            await say(a, "退款一般几天能到账")
            said = await settled(a, lambda t: "原路退回" in t)
            conv = await conversation_of(proc.base, a)
            assert conv["state"] == "bot" and conv["bot_turn"]["topic"] == "policy", conv
            assert conv["bot_turn"]["faq_id"] == "refund-time" and not any("转接" in t for t in said)

            # The customer's own parcel with an item missing: after-sale people, not the order flow.
            b, _ = await customer(http, proc.base)
            await say(b, "包裹里只有一双袜子，我买的外套呢")
            got = await sue.expect(lambda f: f["type"] == "assigned", timeout=20)
            assert got["conversation"]["pool"] == "aftersale" and not got["conversation"].get("bot")
            await asyncio.sleep(0.5)
            assert bot_said(b) == []

            # Blame put as a question: the near FAQ entry does not answer; a person is told why.
            c, _ = await customer(http, proc.base)
            await say(c, "我已经等了三天了，到底有没有人管")
            got = await alice.expect(lambda f: f["type"] == "assigned", timeout=20)
            assert got["conversation"]["bot"]["reason"] == "unanswered"
            turn = (await conversation_of(proc.base, c))["bot_turn"]
            assert turn.get("faq_id") is None and turn["faq_bar"]["raised_for"] == ["reproach: 到底"], turn
            assert turn["faq_bar"]["faq_score"] < turn["faq_bar"]["bar"]
            for s in (a, b, c, sue, alice):
                await s.close()
    finally:
        proc.stop()
