"""The language model in a running router: what the FAQ lacks is answered by the model (grounded,
recorded in the bot stats and /metrics); complaints, anger and requests for a person are handed
off before the model is ever called; a stalled model still leaves the customer an answer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from helpers.app import running
from helpers.bot_app import bot_settings
from helpers.clients import Socket, agent, customer, msg_id
from helpers.fake_llm import fake_llm

SUE = {"Authorization": "Bearer sue-token-12345"}


def bot_said(sock: Socket) -> list[str]:
    return [f["message"]["text"] for f in sock.of("message") if f["message"]["from"] == "bot"]


async def say(sock: Socket, text: str) -> None:
    await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})


def llm_section(base: str, timeout_s: float = 3.0) -> str:
    return f"  llm: {{base_url: '{base}', model: qwen-plus, timeout_s: {timeout_s}}}\n"


async def test_the_model_answers_what_the_faq_lacks_and_is_counted(redis_url: str, tmp_path: Path) -> None:
    async with fake_llm() as fake, \
            running(bot_settings(tmp_path, llm_section(fake.base)), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        await say(cust, "羊绒围巾掉毛严重吗")
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot"
                          and "起球" in f["message"]["text"], timeout=15)
        assert len(fake.requests) == 1
        async with http.get(f"{base}/api/v1/bot/stats", headers=SUE) as r:
            llm = (await r.json())["llm"]
        assert llm["turns"] == {"answered": 1} and llm["prompt_tokens"] > 0 and llm["completion_tokens"] > 0
        async with http.get(f"{base}/metrics") as r:
            text = await r.text()
        assert 'kefu_bot_llm_turns_total{outcome="answered"} 1.0' in text
        assert 'kefu_bot_llm_tokens_total{kind="prompt"}' in text and "kefu_bot_llm_latency_seconds_total" in text
        await cust.close()


async def test_complaints_anger_human_requests_and_payment_trouble_never_reach_the_model(redis_url: str, tmp_path: Path) -> None:
    async with fake_llm() as fake, \
            running(bot_settings(tmp_path, llm_section(fake.base)), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        lines = ["我要投诉你们的服务", "什么垃圾东西！！！", "转人工", "我要找真人", "我要退款", "付了钱订单显示未支付"]
        socks = []
        for line in lines:
            sock, _ = await customer(http, base)
            await say(sock, line)
            socks.append(sock)
        for sock in socks:
            await sock.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot"
                              and "转接" in f["message"]["text"], timeout=15)
        assert fake.requests == []
        for sock in socks:
            await sock.close()


async def test_a_stalled_model_leaves_no_silence(redis_url: str, tmp_path: Path) -> None:
    async with fake_llm() as fake, \
            running(bot_settings(tmp_path, llm_section(fake.base, timeout_s=1.0)), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        fake.mode = "stall"
        cust, _ = await customer(http, base)
        t0 = time.monotonic()
        await say(cust, "紫色蝴蝶结代表什么意思")
        got = await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot"
                                and "转接人工" in f["message"]["text"], timeout=15)  # handed on
        # debounce (0.3 s) + timeout (1 s) + a margin for a loaded machine
        assert time.monotonic() - t0 < 0.3 + 1.0 + 3.0, got
        assert len(fake.requests) == 1
        await asyncio.sleep(0.2)
        await cust.close()


async def test_the_copilot_drafts_for_the_assigned_agent_only(redis_url: str, tmp_path: Path) -> None:
    rules = "default: {pool: presale}\n"  # straight to people: the copilot is for agents
    async with fake_llm() as fake, \
            running(bot_settings(tmp_path, llm_section(fake.base), rules_text=rules), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await say(cust, "羊绒围巾掉毛严重吗")
        cid = (await alice.expect(lambda f: f["type"] == "assigned", timeout=15))["conversation"]["id"]
        url = f"{base}/api/v1/conversations/{cid}/suggestion"
        async with http.post(url, headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200
            body = await r.json()
        assert "起球" in body["suggestion"] and body["outcome"] == "answered" and body["model"] == "qwen-plus"
        assert body["question"] == "羊绒围巾掉毛严重吗" and "pilling" in body["faq_ids"]
        async with http.post(url, headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 403  # not Bob's conversation
        async with http.post(url, headers=SUE) as r:
            assert r.status == 200  # a supervisor may look
        async with http.post(f"{base}/api/v1/conversations/c_nope/suggestion", headers=SUE) as r:
            assert r.status == 404
        fake.mode = "banned"
        async with http.post(url, headers={"Authorization": "Bearer alice-token-1234"}) as r:
            body = await r.json()
        assert body["suggestion"] is None and body["outcome"] == "withheld_compliance"
        await asyncio.sleep(0.3)
        assert not [f for f in cust.of("message") if f["message"]["from"] != "customer"]  # nothing was sent
        await cust.close()
        await alice.close()
