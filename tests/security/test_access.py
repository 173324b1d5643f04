"""Items 1 and 4: files and the channels' console routes answer only about conversations the
caller may see. The probe downloaded another agent's customer's photo and a file from no
conversation at all, and learned from the WeChat quota whether any openid had written in the
last 48 hours."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from helpers import images
from helpers.app import BASIC, running
from helpers.clients import agent
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat, safe_body, signed_query, text_xml

from adapters.wechat_crypto import MessageCrypto
from router.config.settings import parse_settings

WX_TOKEN = "wx-access-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TG_SECRET = "tg-access_secret"
ALICE, BOB, SUE = ("alice-token-1234", "bob-token-12345", "sue-token-12345")  # sue: supervisor

CHANNELS = """
channels:
  wechat:
    - account: shop
      app_id: {app_id}
      app_secret: {app_secret}
      token: {wx_token}
      encoding_aes_key: {aes}
      api_base: {wx}
  telegram:
    - bot: shopbot
      token: "{tg_token}"
      secret_token: {tg_secret}
      api_base: {tg}
"""


@pytest.fixture
async def shop(redis_url: str) -> AsyncIterator[tuple[str, aiohttp.ClientSession, FakeTelegram, FakeWechat]]:
    async with fake_wechat() as wx, fake_telegram() as tg:
        text = BASIC.format(cap=100) + CHANNELS.format(
            app_id=wx.app_id, app_secret=wx.app_secret, wx_token=WX_TOKEN, aes=AES_KEY, wx=wx.base,
            tg_token=tg.token, tg_secret=TG_SECRET, tg=tg.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (_rt, base), \
                aiohttp.ClientSession() as http:
            yield base, http, tg, wx


async def _photo(http: aiohttp.ClientSession, base: str, chat: int, file_id: str) -> None:
    update = {"update_id": chat, "message": {
        "message_id": 1, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "C"}, "photo": [{"file_id": file_id, "width": 9}]}}
    async with http.post(f"{base}/webhooks/telegram/shopbot", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
        assert r.status == 200


async def _wechat(http: aiohttp.ClientSession, base: str, openid: str, n: int) -> None:
    enc = MessageCrypto(AES_KEY, "wxfake").encrypt(text_xml(openid, "在吗", n, int(time.time())))
    async with http.post(f"{base}/webhooks/wechat/shop", params=signed_query(WX_TOKEN, enc),
                         data=safe_body(enc).encode()) as r:
        assert r.status == 200


async def _get(http: aiohttp.ClientSession, url: str, token: str) -> int:
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
        await r.read()
        return r.status


async def test_telegram_files_only_for_who_may_see_their_conversation(
        shop: tuple[str, aiohttp.ClientSession, FakeTelegram, FakeWechat]) -> None:
    """Customers' photos are kept in the media store and read through GET /api/v1/media/{id};
    the old proxy by Telegram file_id, which any agent could point at any file, is gone."""
    base, http, tg, _wx = shop
    for i in range(200):  # a busy shop: photos of many customers
        tg.files[f"PHOTO-{i}"] = (f"photos/{i}.png", images.png(8 + i % 40, 8 + i // 40))
    alice = await agent(http, base, ALICE)
    for i in range(100):  # only alice is online: these are hers
        await _photo(http, base, 10_000 + i, f"PHOTO-{i}")
    await alice.expect_count(lambda f: f["type"] == "assigned", 100, timeout=60)
    bob = await agent(http, base, BOB)  # alice is full (cap 100): the next ones are bob's
    for i in range(100, 200):
        await _photo(http, base, 10_000 + i, f"PHOTO-{i}")
    await bob.expect_count(lambda f: f["type"] == "assigned" and f["conversation"]["channel"] == "telegram",
                           100, timeout=60)
    # The downloads run beside routing, retried when Telegram is slow: enough of them to pick from.
    stored = lambda f: f["type"] == "media" and "media" in f  # noqa: E731
    hers = [f["media"]["id"] for f in await alice.expect_count(stored, 60, timeout=180)]
    his = [f["media"]["id"] for f in await bob.expect_count(stored, 60, timeout=180)]
    url = f"{base}/api/v1/media/{{}}"
    for mid in (hers[0], hers[30], hers[-1]):
        assert await _get(http, url.format(mid), ALICE) == 200
        assert await _get(http, url.format(mid), BOB) == 404   # alice's customer
    for mid in (his[0], his[30], his[-1]):
        assert await _get(http, url.format(mid), BOB) == 200
        assert await _get(http, url.format(mid), ALICE) == 404  # bob's customer
        assert await _get(http, url.format(mid), SUE) == 200    # a supervisor sees all
    for token in (ALICE, BOB, SUE):
        assert await _get(http, url.format("md_" + "0" * 32), token) == 404  # no such file
        assert await _get(http, f"{base}/api/v1/telegram/shopbot/files/PHOTO-0", token) == 404  # the proxy is gone
    assert await _get(http, url.format(hers[0]), "wrong-token-123") == 401
    await alice.close()
    await bob.close()


async def test_wechat_quota_only_for_who_may_see_the_openid(
        shop: tuple[str, aiohttp.ClientSession, FakeTelegram, FakeWechat]) -> None:
    base, http, _tg, _wx = shop
    alice = await agent(http, base, ALICE)
    for i in range(100):
        await _wechat(http, base, f"oAlice{i}", 1000 + i)
    await alice.expect_count(lambda f: f["type"] == "assigned", 100, timeout=60)
    bob = await agent(http, base, BOB)
    for i in range(100):
        await _wechat(http, base, f"oBob{i}", 2000 + i)
    await bob.expect_count(lambda f: f["type"] == "assigned" and f["conversation"]["channel"] == "wechat",
                           100, timeout=60)
    url = f"{base}/api/v1/wechat/shop/quota/{{}}"
    for i in (0, 42, 99):
        assert await _get(http, url.format(f"oAlice{i}"), ALICE) == 200
        assert await _get(http, url.format(f"oAlice{i}"), BOB) == 404
        assert await _get(http, url.format(f"oBob{i}"), ALICE) == 404
        assert await _get(http, url.format(f"oBob{i}"), SUE) == 200
    for token in (ALICE, BOB, SUE):  # someone who never wrote to the shop: nothing to say
        assert await _get(http, url.format("oSomeoneElse"), token) == 404
    await alice.close()
    await bob.close()
