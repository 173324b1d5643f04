"""Burst debounce: lines typed in a burst are one turn for the bot and one notification for the
agent; every line is kept and shown; a process killed inside the window loses none of them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from helpers.app import running
from helpers.bot_app import bot_config, bot_settings
from helpers.clients import Socket, agent, customer, msg_id
from helpers.procs import Serve

BURST = ["亲", "请问一下", "这件毛衣", "洗了会不会", "起球啊"]


def bot_turns(sock: Socket) -> set[str]:
    """Bot replies carry the id of the turn they answer: m_bot_<turn>_<n>."""
    return {f["message"]["id"].rsplit("_", 1)[0] for f in sock.of("message") if f["message"]["from"] == "bot"}


async def burst(sock: Socket, lines: list[str], gap: float) -> float:
    """Send the lines `gap` apart; returns how long the sending took."""
    t0 = time.monotonic()
    for n, line in enumerate(lines):
        if n:
            await asyncio.sleep(gap)
        await sock.send({"type": "message", "text": line, "client_msg_id": msg_id()})
    took = time.monotonic() - t0
    await sock.expect_count(lambda f: f["type"] == "ack", len(lines), timeout=10)
    return took


async def test_five_lines_in_one_second_get_one_bot_answer(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path, debounce_s=1.5), redis_url) as (rt, base), \
            aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        took = await burst(cust, BURST, 0.2)
        assert took < 1.2, f"the machine was too slow to send a burst ({took:.2f}s)"
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot", timeout=10)
        await asyncio.sleep(2.0)  # a second turn, if any, would be due by now
        assert len(bot_turns(cust)) == 1
        assert rt.bot.turns == 1
        answer = [f["message"]["text"] for f in cust.of("message") if f["message"]["from"] == "bot"]
        assert any("起球" in a for a in answer), answer  # answered as one question
        cid = (await rt.store.client.zrange(rt.store.keys.conv_index, 0, 0))[0]
        kept = [m.text for m in await rt.transcript.messages(cid) if m.sender.value == "customer"]
        assert kept == BURST
        stats = await rt.store.client.hgetall(rt.store.keys.bot_stats)
        assert stats.get("bursts") == "1"
        await cust.close()


async def test_a_burst_to_an_agent_notifies_once_and_shows_every_line(redis_url: str, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path, debounce_s=1.5), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "转人工", "client_msg_id": msg_id()})
        assigned = await alice.expect(lambda f: f["type"] == "assigned", timeout=15)
        await asyncio.sleep(1.6)  # the burst below starts a new window
        await burst(cust, BURST, 0.1)
        frames = await alice.expect_count(lambda f: f["type"] == "message", len(BURST), timeout=10)
        assert [f["message"]["text"] for f in frames] == BURST
        assert [f["notify"] for f in frames] == [True, False, False, False, False]
        assert all(f["conversation_id"] == assigned["conversation"]["id"] for f in frames)
        await cust.close()
        await alice.close()


async def test_a_process_killed_inside_the_window_loses_no_line(redis_url: str, tmp_path: Path) -> None:
    config = tmp_path / "kefu.yaml"
    config.write_text(bot_config(tmp_path, debounce_s=3.0))
    victim = Serve(config, redis_url, tmp_path)
    victim.wait_ready()
    survivor: Serve | None = None
    try:
        async with aiohttp.ClientSession() as http:
            cust, token = await customer(http, victim.base)
            await burst(cust, ["我的快递", "到哪了", "2024111100012301"], 0.1)
            # Every line routed and waiting for the turn, which is not due yet: kill now.
            r = aioredis.from_url(redis_url, decode_responses=True)
            try:
                for _ in range(100):
                    cids = await r.zrange("{rt:kefu}:convs", 0, -1)
                    if cids and await r.llen(f"{{rt:kefu}}:bot:{cids[0]}:pending") == 3:
                        break
                    await asyncio.sleep(0.02)
                else:
                    raise AssertionError("the victim did not route the burst")
            finally:
                await r.aclose()
            victim.kill()  # inside the 3 s window: the turn was never answered
            await cust.close()
            assert not [f for f in cust.of("message") if f["message"]["from"] == "bot"]
            survivor = Serve(config, redis_url, tmp_path)
            survivor.wait_ready()
            cust2, _ = await customer(http, survivor.base, token=token)
            # One answer to the whole burst: it names the number from the third line (the
            # visitor is a stranger to that order, so the answer asks for the phone digits).
            got = await cust2.expect(
                lambda f: f["type"] == "message" and "2024111100012301" in f["message"]["text"], timeout=20)
            assert got["message"]["from"] == "bot"
            await asyncio.sleep(0.5)
            assert len(bot_turns(cust2)) == 1
            await cust2.close()
    finally:
        if victim.proc.poll() is None:
            victim.kill()
        if survivor is not None:
            survivor.stop()


async def test_a_customer_who_keeps_typing_is_still_answered(redis_url: str, tmp_path: Path) -> None:
    # Lines 0.3 s apart never leave a 0.5 s pause; the turn is still due 4 windows (2 s) after
    # the first line, so the bot answers while the customer is still typing.
    async with running(bot_settings(tmp_path, debounce_s=0.5), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        lines = [f"还有一个问题 {n}" for n in range(16)]  # 4.5 s of typing
        sending = asyncio.create_task(burst(cust, lines, 0.3))
        await cust.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "bot", timeout=10)
        answered_while_typing = not sending.done()
        await sending
        assert answered_while_typing
        await cust.close()
