"""kefu('identify') and kefu('context') on a shop's own page, in Chromium: the calls the page makes
before the widget script loads reach the router when the chat opens; a signed profile names the
customer, a forged one is refused and changes nothing, and the product on the page reaches the
agent's assigned frame."""

from __future__ import annotations

import json
import time

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent
from playwright.async_api import Browser, expect

from router.config.settings import parse_settings
from router.ops.profiles import signature_of
from tests.browser.test_widget_ui import _shop

SECRET = "browser-identify-secret-42"
PRODUCT = {"id": "sku-1001", "title": "加厚羽绒服 黑色 M", "price": 599,
           "image": "https://img.example/1001.jpg", "url": "https://shop.example/p/1001"}


def _page(profile: str, signature: str) -> str:
    return f"""<!doctype html><title>shop</title><h1>示例小店</h1>
<script>window.kefu = window.kefu || function () {{ (window.kefu.q = window.kefu.q || []).push(arguments); }};
kefu('identify', {{profile: {json.dumps(profile)}, signature: "{signature}"}});
kefu('context', {{product: {json.dumps(PRODUCT)}}});</script>"""


async def _chat_from_shop(browser: Browser, redis_url: str, profile: str, signature: str) -> dict[str, object]:
    runner, shop = await _shop(_page(profile, signature))
    try:
        settings = parse_settings(
            BASIC.format(cap=5) + f"channels:\n  webchat:\n    allowed_origins: [{shop}]\n"
            f"    identify_secret: {SECRET}\n", "<test>")
        async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
            alice = await agent(http, base, "alice-token-1234")
            ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 760})
            page = await ctx.new_page()
            await page.goto(shop)
            await page.evaluate(
                f"""() => {{ const s = document.createElement('script'); s.src = '{base}/static/widget.js';
                s.dataset.title = '示例小店客服'; document.body.append(s); }}""")
            await page.get_by_role("button", name="示例小店客服").click()
            frame = page.frame_locator("iframe[title='示例小店客服']")
            await expect(frame.locator("#conn")).to_have_text("已连接")
            # The chat posts what the page said right after it has a session; give it that moment.
            await page.wait_for_timeout(500)
            await frame.locator("#text").fill("这件羽绒服有货吗")
            await frame.locator("#text").press("Enter")
            assigned = await alice.expect(lambda f: f["type"] == "assigned")
            await alice.close()
            await ctx.close()
            return assigned
    finally:
        await runner.cleanup()


async def test_a_signed_profile_and_the_product_reach_the_agent(redis_url: str, browser: Browser) -> None:
    profile = json.dumps({"user_id": "u-88", "ts": int(time.time()), "name": "周女士", "phone": "13700001234",
                          "segment": "vip", "tags": ["老客"]}, ensure_ascii=False)
    assigned = await _chat_from_shop(browser, redis_url, profile, signature_of(profile, SECRET))
    customer = assigned["conversation"]["customer"]  # type: ignore[index]
    assert customer["name"] == "周女士" and customer["segment"] == "vip" and customer["phone"] == "137****1234"
    assert customer["tags"] == ["老客"]
    assert customer["product"] == {**PRODUCT, "price": 599.0}
    assert "user:web:u-88" in customer["identities"]


async def test_a_forged_profile_changes_nothing(redis_url: str, browser: Browser) -> None:
    profile = json.dumps({"user_id": "u-88", "ts": int(time.time()), "name": "冒充的", "segment": "vip"},
                         ensure_ascii=False)
    assigned = await _chat_from_shop(browser, redis_url, profile, signature_of(profile, "not-the-shops-secret"))
    customer = assigned["conversation"]["customer"]  # type: ignore[index]
    assert customer["name"] == "" and customer["segment"] == "new"
    assert not any(i.startswith("user:") for i in customer["identities"])
    assert customer["product"]["id"] == "sku-1001"  # the page's context needs no signature
