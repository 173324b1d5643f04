"""CSAT on WeChat and Telegram, end to end through the real wechatpy and python-telegram-bot
against the fake APIs: after an agent's close the customer gets a numbered text prompt; a bare
1-5 within `csat.window_s` is recorded as the rating (and reaches the archive), not routed; a
non-number, or a number once the window has passed, is routed as usual."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import Socket, agent
from helpers.fake_telegram import FakeTelegram
from helpers.fake_wechat import FakeWechat
from test_e2e_channels import CHANNELS, CHAT, OPENID, assigned, say, telegram_says, wechat_says

from router.config.settings import parse_settings
from router.runtime import Runtime
from tests.adapters.support import AES_KEY, TG_SECRET, WX_TOKEN

WINDOW_S = 4.0
PROMPT = "请为本次服务打分，回复数字：5 非常满意，4 满意，3 一般，2 不满意，1 非常不满意"
SUE = {"Authorization": "Bearer sue-token-12345"}


@pytest.fixture
async def live(wx_api: FakeWechat, tg_api: FakeTelegram, redis_url: str, archive_url: str,
               monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Runtime, str, aiohttp.ClientSession]]:
    monkeypatch.setenv("KEFU_TEST_WX_SECRET", wx_api.app_secret)
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", tg_api.token)
    text = BASIC.format(cap=5) + CHANNELS.format(
        app_id=wx_api.app_id, wx_token=WX_TOKEN, aes=AES_KEY, wx=wx_api.base, secret=TG_SECRET, tg=tg_api.base
    ) + f"""
csat:
  window_s: {WINDOW_S}
archive:
  url: {archive_url}
"""
    async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        yield rt, base, http


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (got := await check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
    return got


def texts(api: FakeWechat | FakeTelegram) -> list[str]:
    return [s["text"]["content"] if "touser" in s else s["text"] for s in api.sent if "text" in s]


async def close(alice: Socket, cid: str) -> None:
    start = len(alice.frames)
    await alice.send({"type": "close", "conversation_id": cid})
    await alice.expect(lambda f: f["type"] == "closed" and f["conversation_id"] == cid, start=start)


async def transcript(rt: Runtime, cid: str) -> list[str]:
    return [m.text for m in await rt.transcript.messages(cid)]


async def test_a_wechat_customer_rates_by_number_and_the_rating_is_not_routed(
        live: tuple[Runtime, str, aiohttp.ClientSession], wx_api: FakeWechat) -> None:
    rt, base, http = live
    alice = await agent(http, base, "alice-token-1234")
    assert await wechat_says(http, base, "你好，我的快递破损了", 8001) == (200, "success")
    cid = (await assigned(alice, "wechat"))["conversation"]["id"]
    assert (await say(alice, cid, "亲，给您补发"))["status"] == "sent"
    await close(alice, cid)
    await until(lambda: asyncio.sleep(0, PROMPT in texts(wx_api)))
    assert wx_api.sent[-1] == {"touser": OPENID, "msgtype": "text", "text": {"content": PROMPT}}

    frames = len(alice.frames)
    assert await wechat_says(http, base, "５", 8002) == (200, "success")  # full-width, as phones type it
    await until(lambda: asyncio.sleep(0, "感谢您的评价！" in texts(wx_api)))
    async with http.get(f"{base}/api/v1/reports/csat", headers=SUE) as r:
        report = await r.json()
    assert report["conversations"][0]["conversation_id"] == cid and report["conversations"][0]["rating"] == 5
    assert report["overall"] == {"count": 1, "avg": 5.0}
    conv = await rt.store.conversations.get(cid)
    assert conv is not None and conv.state == "closed" and conv.reopened == 0
    assert "５" not in await transcript(rt, cid)
    assert not [f for f in alice.frames[frames:] if f.get("conversation_id") == cid
                or f.get("conversation", {}).get("id") == cid]
    # The rating reaches the archive row.
    await asyncio.wait_for(rt.archive.ready.wait(), 60)
    await until(lambda: archived_rating(rt, cid))

    # The prompt is answered: a second number is a message again, and reopens the conversation.
    assert await wechat_says(http, base, "4", 8003) == (200, "success")
    frame = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid, start=frames)
    assert [m["text"] for m in frame["messages"]][-1] == "4"
    assert (await rt.store.conversations.get(cid)).reopened == 1  # type: ignore[union-attr]
    async with http.get(f"{base}/api/v1/reports/csat", headers=SUE) as r:
        assert (await r.json())["overall"] == {"count": 1, "avg": 5.0}
    await alice.close()


async def archived_rating(rt: Runtime, cid: str) -> bool:
    row = await rt.archive.conversation(cid)
    return row is not None and (row["csat"] or {}).get("rating") == 5


async def test_telegram_words_and_late_numbers_are_routed_as_usual(
        live: tuple[Runtime, str, aiohttp.ClientSession], tg_api: FakeTelegram) -> None:
    rt, base, http = live
    alice = await agent(http, base, "alice-token-1234")
    assert await telegram_says(http, base, 9101, text="Where is my parcel?") == 200
    cid = (await assigned(alice, "telegram"))["conversation"]["id"]
    assert (await say(alice, cid, "Shipped today"))["status"] == "sent"
    await close(alice, cid)
    await until(lambda: asyncio.sleep(0, texts(tg_api).count(PROMPT) == 1))
    assert tg_api.sent[-1] == {"chat_id": str(CHAT), "text": PROMPT}

    # Words, not a number: routed (within the reopen window, the conversation reopens).
    start = len(alice.frames)
    assert await telegram_says(http, base, 9102, text="谢谢，很好") == 200
    await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid, start=start)
    assert (await transcript(rt, cid))[-1] == "谢谢，很好"
    assert not await rt.channel_csat.csat.rated(cid)

    # Closed again: asked again. A number after the window has passed is a message too.
    await close(alice, cid)
    await until(lambda: asyncio.sleep(0, texts(tg_api).count(PROMPT) == 2))
    identity = f"telegram:shopbot:{CHAT}"
    assert await rt.store.ratings.asked(identity)
    await until(lambda: not_asked(rt, identity), timeout=WINDOW_S + 30)
    start = len(alice.frames)
    assert await telegram_says(http, base, 9103, text="3") == 200
    await alice.expect(lambda f: f["type"] == "assigned" and any(m["text"] == "3" for m in f["messages"]),
                       start=start)
    assert not await rt.channel_csat.csat.rated(cid)
    assert "感谢您的评价！" not in texts(tg_api)
    await alice.close()


async def not_asked(rt: Runtime, identity: str) -> bool:
    return not await rt.store.ratings.asked(identity)


class _SameSecond:
    """Stands in for the `time` module in router.ops.desk: every close happens within the
    current second, as a quick close, reopen and close again can."""

    def __init__(self) -> None:
        self.second = float(int(time.time()))
        self.n = 0

    def time(self) -> float:
        self.n += 1
        return self.second + self.n / 100


async def test_a_chat_closed_twice_within_a_second_is_asked_twice(
        live: tuple[Runtime, str, aiohttp.ClientSession], tg_api: FakeTelegram,
        monkeypatch: pytest.MonkeyPatch) -> None:
    rt, base, http = live
    alice = await agent(http, base, "alice-token-1234")
    assert await telegram_says(http, base, 9201, text="Where is my parcel?") == 200
    cid = (await assigned(alice, "telegram"))["conversation"]["id"]
    monkeypatch.setattr("router.ops.desk.time", _SameSecond())
    await close(alice, cid)
    await until(lambda: asyncio.sleep(0, texts(tg_api).count(PROMPT) == 1))
    start = len(alice.frames)
    assert await telegram_says(http, base, 9202, text="还有一个问题") == 200  # reopens it
    await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid, start=start)
    await close(alice, cid)
    conv = await rt.store.conversations.get(cid)
    assert conv is not None and conv.reopened == 1 and conv.closed_at is not None
    # Two closes in one second are two closes: each is asked for its rating once.
    await until(lambda: asyncio.sleep(0, texts(tg_api).count(PROMPT) == 2))
    await asyncio.sleep(0.5)
    assert texts(tg_api).count(PROMPT) == 2
    await alice.close()
