"""Whole conversations through the running router: a WeChat and a Telegram customer reach the
same agent, who answers both; each fake API gets exactly one correct send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, msg_id
from helpers.fake_telegram import FakeTelegram, too_many
from helpers.fake_wechat import FakeWechat, safe_body, signed_query, text_xml
from helpers.media_samples import jpeg

from adapters.wechat_crypto import MessageCrypto
from router.config.settings import Settings, parse_settings
from tests.adapters.support import AES_KEY, TG_SECRET, WX_TOKEN

OPENID = "oWeChatCustomer1"
CHAT = 555001
ALICE = {"Authorization": "Bearer alice-token-1234"}

CHANNELS = """
channels:
  wechat:
    - account: shop
      app_id: {app_id}
      app_secret_env: KEFU_TEST_WX_SECRET
      token: {wx_token}
      encoding_aes_key: {aes}
      api_base: {wx}
  telegram:
    - bot: shopbot
      token_env: KEFU_TEST_TG_TOKEN
      secret_token: {secret}
      api_base: {tg}
"""


@pytest.fixture
def settings(wx_api: FakeWechat, tg_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("KEFU_TEST_WX_SECRET", wx_api.app_secret)
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", tg_api.token)
    text = BASIC.format(cap=5) + CHANNELS.format(
        app_id=wx_api.app_id, wx_token=WX_TOKEN, aes=AES_KEY, wx=wx_api.base, secret=TG_SECRET, tg=tg_api.base)
    return parse_settings(text, "<test>")


@pytest.fixture
async def router(settings: Settings, redis_url: str) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        yield base, http


async def wechat_says(http: aiohttp.ClientSession, base: str, text: str, msg_no: int) -> tuple[int, str]:
    enc = MessageCrypto(AES_KEY, "wxfake").encrypt(text_xml(OPENID, text, msg_no, int(time.time())))
    async with http.post(f"{base}/webhooks/wechat/shop", params=signed_query(WX_TOKEN, enc),
                         data=safe_body(enc).encode()) as r:
        return r.status, await r.text()


async def telegram_says(http: aiohttp.ClientSession, base: str, uid: int, chat: int = CHAT,
                        **content: Any) -> int:
    update = {"update_id": uid, "message": {
        "message_id": uid, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "Ivan"}, **(content or {"text": "hello"})}}
    async with http.post(f"{base}/webhooks/telegram/shopbot", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
        return r.status


async def assigned(alice: Socket, channel: str) -> dict[str, Any]:
    frame = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["channel"] == channel)
    return frame


async def say(alice: Socket, conv: str, text: str) -> dict[str, Any]:
    cid = msg_id()
    await alice.send({"type": "reply", "conversation_id": conv, "text": text, "client_msg_id": cid})
    ack = await alice.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cid)
    return await alice.expect(lambda f: f["type"] == "delivery" and f["message_id"] == ack["message_id"])


async def test_wechat_and_telegram_customers_reach_one_agent(
        router: tuple[str, aiohttp.ClientSession], wx_api: FakeWechat, tg_api: FakeTelegram) -> None:
    base, http = router
    alice = await agent(http, base, "alice-token-1234")

    # The same WeChat message delivered three times (WeChat's retries) reaches the agent once.
    for _ in range(3):
        assert await wechat_says(http, base, "你好，我的订单到哪了？", 7001) == (200, "success")
    wx_conv = await assigned(alice, "wechat")
    assert [m["text"] for m in wx_conv["messages"]] == ["你好，我的订单到哪了？"]

    assert await telegram_says(http, base, 9001, text="Where is my parcel?") == 200
    assert await telegram_says(http, base, 9001, text="Where is my parcel?") == 200
    tg_conv = await assigned(alice, "telegram")
    assert [m["text"] for m in tg_conv["messages"]] == ["Where is my parcel?"]

    wx_delivery = await say(alice, wx_conv["conversation"]["id"], "已发货，明天到")
    tg_delivery = await say(alice, tg_conv["conversation"]["id"], "Shipped, arrives tomorrow")
    assert wx_delivery["status"] == tg_delivery["status"] == "sent"
    assert wx_api.sent == [{"touser": OPENID, "msgtype": "text", "text": {"content": "已发货，明天到"}}]
    assert tg_api.sent == [{"chat_id": str(CHAT), "text": "Shipped, arrives tomorrow"}]
    await asyncio.sleep(0.3)
    assert [m for m in alice.of("message") if "订单" in m["message"]["text"]] == []  # no second copy

    # The agent can see the WeChat reply quota: one of five used.
    async with http.get(f"{base}/api/v1/wechat/shop/quota/{OPENID}", headers=ALICE) as r:
        assert r.status == 200 and (await r.json())["quota_left"] == 4
    async with http.get(f"{base}/api/v1/wechat/shop/quota/{OPENID}") as r:
        assert r.status == 401

    # A closed window is a failed delivery whose reason the agent can read.
    wx_api.script = [45015]
    failed = await say(alice, wx_conv["conversation"]["id"], "还在吗？")
    assert failed["status"] == "failed" and "48-hour reply window has closed" in failed["reason"]
    await alice.close()


async def test_agent_fetches_telegram_media_by_file_id(
        router: tuple[str, aiohttp.ClientSession], tg_api: FakeTelegram) -> None:
    """The photo is kept in the media store (tests/e2e/test_media_channels.py) and read through
    GET /api/v1/media/{id}; the old proxy by file_id is gone."""
    base, http = router
    photo = jpeg(seed=11)
    tg_api.files["PHOTO-1"] = ("photos/file_1.jpg", photo)
    alice = await agent(http, base, "alice-token-1234")
    assert await telegram_says(http, base, 9100, photo=[{"file_id": "PHOTO-1", "width": 800}]) == 200
    conv = await assigned(alice, "telegram")
    mid = conv["messages"][0]["id"]
    stored = await alice.expect(lambda f: f["type"] == "media" and f["message_id"] == mid)
    assert stored["media"]["mime"] == "image/jpeg"
    url = f"{base}/api/v1/media/{stored['media']['id']}"
    async with http.get(url, headers=ALICE) as r:
        assert r.status == 200 and r.content_type == "image/jpeg"
    async with http.get(url) as r:
        assert r.status == 401
    async with http.get(f"{base}/api/v1/telegram/shopbot/files/PHOTO-1", headers=ALICE) as r:
        assert r.status == 404
    await alice.close()


async def test_a_rate_limited_chat_does_not_hold_up_another(
        router: tuple[str, aiohttp.ClientSession], tg_api: FakeTelegram) -> None:
    base, http = router
    alice = await agent(http, base, "alice-token-1234")
    assert await telegram_says(http, base, 9201, chat=1001, text="A here") == 200
    conv_a = (await assigned(alice, "telegram"))["conversation"]["id"]
    assert await telegram_says(http, base, 9202, chat=1002, text="B here") == 200
    conv_b = (await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != conv_a))
    tg_api.script["1001"] = [too_many(3)]
    await alice.send({"type": "reply", "conversation_id": conv_a, "text": "to A", "client_msg_id": msg_id()})
    await asyncio.sleep(0.3)  # A is now waiting out its retry_after
    start = time.monotonic()
    delivered = await say(alice, conv_b["conversation"]["id"], "to B")
    assert delivered["status"] == "sent" and time.monotonic() - start < 2.0
    assert tg_api.sent_to(1002) == ["to B"] and tg_api.sent_to(1001) == []
    await alice.expect(lambda f: f["type"] == "delivery" and f["status"] == "sent"
                       and f["conversation_id"] == conv_a, timeout=10)
    assert tg_api.sent_to(1001) == ["to A"]
    await alice.close()


def _paragraphs(n: int, size: int) -> list[str]:
    """n numbered paragraphs of `size` characters each, so the order of parts shows."""
    return [f"第{i}段" + "字" * (size - len(f"第{i}段")) for i in range(n)]


async def test_a_long_reply_reaches_wechat_and_telegram_in_order(
        router: tuple[str, aiohttp.ClientSession], wx_api: FakeWechat, tg_api: FakeTelegram) -> None:
    base, http = router
    alice = await agent(http, base, "alice-token-1234")
    assert await wechat_says(http, base, "说明书发我", 7101) == (200, "success")
    wx_conv = await assigned(alice, "wechat")
    assert await telegram_says(http, base, 9101, text="send me the manual") == 200
    tg_conv = await assigned(alice, "telegram")

    # 4,500 characters: over WeChat's 2,000 (it failed permanently before), under the agent box's 8,000.
    wx_text = "\n\n".join(_paragraphs(3, 1500))
    assert (await say(alice, wx_conv["conversation"]["id"], wx_text))["status"] == "sent"
    got = [s["text"]["content"] for s in wx_api.sent]
    assert got == _paragraphs(3, 1500)  # three messages, cut at the paragraphs, in order
    assert all(len(p) <= 2000 for p in got)

    tg_text = "\n\n".join(_paragraphs(3, 2500))
    assert (await say(alice, tg_conv["conversation"]["id"], tg_text))["status"] == "sent"
    assert tg_api.sent_to(str(CHAT)) == _paragraphs(3, 2500)


async def test_a_reply_the_channel_can_never_deliver_is_refused_with_an_error_frame(
        wx_api: FakeWechat, tg_api: FakeTelegram, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_TEST_WX_SECRET", wx_api.app_secret)
    monkeypatch.setenv("KEFU_TEST_TG_TOKEN", tg_api.token)
    text = BASIC.format(cap=5) + "limits:\n  max_text_chars: 50000\n" + CHANNELS.format(
        app_id=wx_api.app_id, wx_token=WX_TOKEN, aes=AES_KEY, wx=wx_api.base, secret=TG_SECRET, tg=tg_api.base)
    async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        assert await wechat_says(http, base, "在吗", 7201) == (200, "success")
        cid = (await assigned(alice, "wechat"))["conversation"]["id"]
        before = await rt.store.client.xlen(rt.store.keys.outbound)
        # Six messages of 2,000: WeChat lets an account send a customer five per window.
        await alice.send({"type": "reply", "conversation_id": cid, "text": "x" * 12_000, "client_msg_id": "long"})
        err = await alice.expect(lambda f: f["type"] == "error")
        assert (err["code"], err.get("ref")) == ("undeliverable", "long")
        assert "6 messages" in err["detail"] and "at most 5" in err["detail"]
        assert await rt.store.client.xlen(rt.store.keys.outbound) == before
        assert (await rt.store.conversation(cid) or {}).get("first_reply_at") in (None, "", 0)
        # Five messages' worth still goes out, in five parts.
        assert (await say(alice, cid, "x" * 10_000))["status"] == "sent"
        assert [len(s["text"]["content"]) for s in wx_api.sent] == [2000] * 5
