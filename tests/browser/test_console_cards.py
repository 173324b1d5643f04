"""The console's "Send page card" in a mini program conversation (issue 17 item 2): the action
shows only where the channel can send cards, the dialog takes a title, a page path and a
thumbnail, custom/send gets the miniprogrampage with the uploaded thumbnail, and the thread shows
the card; the same action in Chinese."""

from __future__ import annotations

import json
import time

import aiohttp
from helpers import console as ui
from helpers.app import BASIC, running
from helpers.fake_wechat import fake_wechat, signed_query
from helpers.media_samples import png
from playwright.async_api import Browser, expect

from router.config.settings import parse_settings
from tests.adapters.support import WX_TOKEN

MP = """
channels:
  miniprogram:
    - {{account: shop, app_id: {app}, app_secret: {secret}, token: {token}, api_base: "{api}"}}
"""


async def mp_says(http: aiohttp.ClientSession, base: str, openid: str, text: str, n: int) -> None:
    body = {"ToUserName": "gh_mp", "FromUserName": openid, "CreateTime": int(time.time()), "MsgType": "text",
            "Content": text, "MsgId": n}
    async with http.post(f"{base}/webhooks/miniprogram/shop", data=json.dumps(body, ensure_ascii=False).encode(),
                         params=signed_query(WX_TOKEN), headers={"Content-Type": "application/json"}) as r:
        assert r.status == 200


async def test_send_page_card_from_the_composer(redis_url: str, browser: Browser) -> None:
    async with fake_wechat() as wx:
        text = BASIC.format(cap=5) + MP.format(app=wx.app_id, secret=wx.app_secret, token=WX_TOKEN, api=wx.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (_rt, base), \
                aiohttp.ClientSession() as http:
            _, page = await ui.console(browser, base, "alice-token-1234", width=1400)
            await expect(page.locator("#card-btn")).to_be_hidden()  # no conversation open yet
            await mp_says(http, base, "oCardConsole", "这件有黑色M码吗", 1)
            await expect(page.locator("#convs .conv .chan")).to_have_text("miniprogram")
            await page.locator("#convs .conv").first.click()
            button = page.get_by_role("button", name="Send page card")
            await expect(button).to_be_visible()
            await button.click()
            dialog = page.locator("#card-dlg")
            await dialog.get_by_role("button", name="Send").click()  # empty: the browser keeps the dialog open
            await expect(dialog).to_be_visible()
            await dialog.get_by_label("Title").fill("羽绒服 黑色 M")
            await dialog.get_by_label("Page path").fill("pages/goods/detail?id=1001")
            await dialog.get_by_label("Thumbnail").set_input_files(
                {"name": "down.png", "mimeType": "image/png", "buffer": png(200, 160, seed=5)})
            await dialog.get_by_role("button", name="Send").click()
            await expect(dialog).to_be_hidden()

            card = page.locator("#messages .msg.from-agent .page-card")
            await expect(card).to_contain_text("羽绒服 黑色 M")
            await expect(card).to_contain_text("pages/goods/detail?id=1001")
            await expect(page.locator("#messages .msg.from-agent .delivery")).to_have_text("sent", timeout=15000)
            [sent] = [s for s in wx.sent if s["msgtype"] == "miniprogrampage"]
            assert sent["touser"] == "oCardConsole"
            assert (sent["miniprogrampage"]["title"], sent["miniprogrampage"]["pagepath"]) == (
                "羽绒服 黑色 M", "pages/goods/detail?id=1001")
            assert wx.uploaded[sent["miniprogrampage"]["thumb_media_id"]].data == png(200, 160, seed=5)
            # The thumbnail in the thread is the uploaded picture, readable with the console's session.
            await expect(card.locator("img")).to_have_js_property("naturalWidth", 200)

            # After a reload the card comes back from the transcript, and the action speaks Chinese.
            await page.evaluate("localStorage.setItem('kefu.lang', 'zh')")
            await page.reload()
            await page.locator("#convs .conv").first.click()
            await expect(page.locator("#messages .page-card")).to_contain_text("羽绒服 黑色 M")
            await expect(page.locator("#card-btn")).to_have_text("发送小程序卡片")
