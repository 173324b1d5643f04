"""The composer in Chromium: `/` quick replies with placeholders filled, compliance findings
marked before sending, and FAQ answers inserted."""

from __future__ import annotations

import aiohttp
from helpers import console as ui
from helpers.app import basic_settings, running
from helpers.clients import customer, msg_id
from playwright.async_api import Browser, expect


async def test_quick_replies_compliance_and_faq(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        _, page = await ui.console(browser, base, "alice-token-1234")
        shopper, _ = await customer(http, base)
        await shopper.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        box = page.locator("#reply-text")
        await expect(page.locator("#messages .msg.from-customer")).to_have_count(1)

        # `/` searches as you type; arrows move, Enter inserts the rendered text.
        await box.press_sequentially("/欢迎")
        options = page.locator("#qr-list .qr")
        await expect(options.first).to_contain_text("欢迎语")
        await expect(options.first).to_have_attribute("aria-selected", "true")
        await box.press("Enter")
        await expect(page.locator("#qr-list")).to_be_hidden()
        text = await box.input_value()
        assert text.startswith("您好") and "Alice" in text and "{" not in text
        await box.press("Escape")

        # An absolute claim is marked before sending; in warn mode it may still be sent.
        await box.fill("这是全网最好的羊毛大衣")
        finding = page.locator("#compliance mark")
        await expect(finding).to_have_text("最好")
        await box.fill("这款羊毛大衣很受欢迎")
        await expect(page.locator("#compliance")).to_be_hidden()

        # FAQ: search, insert the answer into the reply box.
        await box.fill("")
        await page.keyboard.press("Alt+f")
        await page.get_by_label("Search the FAQ").fill("包邮吗")
        first = page.locator("#faq-results .faq").first
        await expect(first).to_be_visible()
        answer = await first.locator("p").text_content()
        await first.get_by_role("button", name="Insert").click()
        await expect(page.locator("#faq-dlg")).to_be_hidden()
        await expect(box).to_have_value(answer or "")
        await shopper.close()
