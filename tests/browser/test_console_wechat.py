"""A WeChat customer in the console: the channel, the reply quota going down, and a reply the
closed 48-hour window refuses, shown as failed with WeChat's reason."""

from __future__ import annotations

import re
import time

import aiohttp
import pytest
from helpers import console as ui
from helpers.app import BASIC, running
from helpers.fake_wechat import fake_wechat, safe_body, signed_query, text_xml
from playwright.async_api import Browser, expect

from adapters.wechat_crypto import MessageCrypto
from router.config.settings import parse_settings
from tests.adapters.support import AES_KEY, WX_TOKEN

OPENID = "oWeChatConsole1"
WECHAT = """
channels:
  wechat:
    - account: shop
      app_id: {app_id}
      app_secret_env: KEFU_TEST_WX_SECRET
      token: {token}
      encoding_aes_key: {aes}
      api_base: {base}
"""


async def wechat_says(http: aiohttp.ClientSession, base: str, text: str, msg_no: int) -> None:
    enc = MessageCrypto(AES_KEY, "wxfake").encrypt(text_xml(OPENID, text, msg_no, int(time.time())))
    async with http.post(f"{base}/webhooks/wechat/shop", params=signed_query(WX_TOKEN, enc),
                         data=safe_body(enc).encode()) as r:
        assert r.status == 200


async def test_wechat_quota_and_a_failed_delivery_with_its_reason(
        redis_url: str, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    async with fake_wechat() as wx:
        monkeypatch.setenv("KEFU_TEST_WX_SECRET", wx.app_secret)
        text = BASIC.format(cap=5) + WECHAT.format(app_id=wx.app_id, token=WX_TOKEN, aes=AES_KEY, base=wx.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), \
                aiohttp.ClientSession() as http:
            _, page = await ui.console(browser, base, "alice-token-1234", width=1400)
            await wechat_says(http, base, "这件羽绒服还有黑色L吗", 1)
            row = page.locator("#convs .conv")
            await expect(row.locator(".chan")).to_have_text("wechat")
            await expect(page.locator("#quota")).to_have_text(re.compile(r"^5 / 5 · window ends"))

            await page.locator("#reply-text").fill("有的，黑色L码有现货")
            await page.locator("#reply-text").press("Enter")
            await expect(page.locator("#messages .msg.from-agent .delivery")).to_have_text("sent")
            assert [s["text"]["content"] for s in wx.sent] == ["有的，黑色L码有现货"]
            await expect(page.locator("#quota")).to_have_text(re.compile(r"^4 / 5"), timeout=15000)

            # Two days later the window has closed: WeChat would refuse, so the router does not send.
            await rt.store.client.delete(rt.store.keys.wechat_quota("shop", OPENID))
            await page.locator("#reply-text").fill("请问还需要别的吗")
            await page.locator("#reply-text").press("Enter")
            failed = page.locator("#messages .msg.from-agent .delivery.failed")
            await expect(failed).to_have_count(1)
            await expect(failed).to_contain_text("48-hour reply window has closed")
            assert len(wx.sent) == 1
