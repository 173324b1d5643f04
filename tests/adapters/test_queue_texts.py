"""Queue position reaches every customer: a `queue` frame in web chat, a throttled text on WeChat
and Telegram (against the fake APIs), sent by exactly one of two router processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from helpers.fake_telegram import FakeTelegram
from helpers.fake_wechat import FakeWechat

from router.config.settings import Settings, parse_settings
from router.ops.queue_texts import queue_text
from tests.adapters.support import AES_KEY, TG_SECRET, WX_TOKEN
from tests.adapters.test_e2e_channels import CHANNELS, CHAT, telegram_says, wechat_says

SUE = {"Authorization": "Bearer sue-token-12345"}
INTERVAL_S = 3.0


@pytest.fixture
def settings(wx_api: FakeWechat, tg_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("KEFU_TEST_WX_SECRET", wx_api.app_secret)
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", tg_api.token)
    text = BASIC.format(cap=1) + CHANNELS.format(
        app_id=wx_api.app_id, wx_token=WX_TOKEN, aes=AES_KEY, wx=wx_api.base, secret=TG_SECRET, tg=tg_api.base)
    return parse_settings(text + f"sla:\n  queue_text_interval_s: {INTERVAL_S}\n", "<test>")


def wx_texts(api: FakeWechat) -> list[str]:
    return [m["text"]["content"] for m in api.sent]


async def until(check: Callable[[], bool], what: str, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_queue_position_reaches_every_channel_throttled(
        settings: Settings, redis_url: str, wx_api: FakeWechat, tg_api: FakeTelegram) -> None:
    async with running(settings, redis_url) as (_rt1, base), running(settings, redis_url) as (_rt2, _), \
            aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")  # one slot, soon taken
        first, _ = await customer(http, base)
        await first.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        await alice.expect(lambda f: f["type"] == "assigned")

        web, _ = await customer(http, base)
        await web.send({"type": "message", "text": "有人吗", "client_msg_id": msg_id()})
        frame = await web.expect(lambda f: f["type"] == "queue")
        assert frame["position"] == 1 and frame["eta_s"] == 180  # one slot online, 3 min per chat

        assert await wechat_says(http, base, "你好，我想换货", 8001) == (200, "success")
        await until(lambda: len(wx_api.sent) == 1, "no queue text on WeChat")
        assert wx_texts(wx_api) == ["您前面还有 1 位，预计等待 6 分钟"]

        assert await telegram_says(http, base, 9301, text="Hello, is anyone there?") == 200
        await until(lambda: len(tg_api.sent) == 1, "no queue text on Telegram")
        assert tg_api.sent_to(CHAT) == ["There are 2 customers ahead of you; estimated wait 9 minutes."]

        behind, _ = await customer(http, base)
        await behind.send({"type": "message", "text": "我也在等", "client_msg_id": msg_id()})
        assert (await behind.expect(lambda f: f["type"] == "queue"))["position"] == 4

        # Same position: no second text, however often the customer writes.
        assert await wechat_says(http, base, "请问还要等多久", 8002) == (200, "success")
        # The web chat customer ahead leaves. Everyone behind hears their new place without
        # writing: a frame on web chat at once, but the WeChat text only when the interval since
        # the last one has passed.
        async with http.post(f"{base}/api/v1/conversations/{frame['conversation_id']}/close", headers=SUE) as r:
            assert r.status == 200
        moved = await behind.expect(lambda f: f["type"] == "queue" and f["position"] == 3)
        assert moved["eta_s"] == 540
        await asyncio.sleep(0.3)
        assert len(wx_api.sent) == 1
        await until(lambda: len(wx_api.sent) == 2, "the new place never reached WeChat")
        assert wx_texts(wx_api)[1] == "马上就轮到您了，预计等待 3 分钟"
        await until(lambda: len(tg_api.sent) == 2, "the new place never reached Telegram")
        assert tg_api.sent_to(CHAT)[1] == "There is 1 customer ahead of you; estimated wait 6 minutes."
        await asyncio.sleep(0.5)
        assert len(wx_api.sent) == 2 and len(tg_api.sent) == 2  # one process sent each, not both
        for sock in (alice, first, web, behind):
            await sock.close()


def test_queue_text_wording() -> None:
    assert queue_text(3, 120, "zh") == "您前面还有 3 位，预计等待 2 分钟"
    assert queue_text(0, -1, "zh") == "马上就轮到您了，请稍候"
    assert queue_text(1, 30, "en") == "There is 1 customer ahead of you; estimated wait 1 minute."
    assert queue_text(0, -1, "en") == "You are next in line; an agent will be with you soon."
