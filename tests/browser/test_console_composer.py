"""The composer in Chromium: `/` quick replies with placeholders filled, compliance findings
marked before sending, FAQ answers inserted, and the copilot's drafted reply."""

from __future__ import annotations

import aiohttp
from helpers import console as ui
from helpers.app import BASIC, basic_settings, running
from helpers.clients import customer, msg_id
from helpers.fake_llm import fake_llm
from playwright.async_api import Browser, expect

from router.config.settings import parse_settings


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


async def test_the_copilot_drafts_a_reply_the_agent_edits_and_sends(redis_url: str, browser: Browser) -> None:
    async with fake_llm() as fake:
        # Straight to people (no bot turn), with a model configured for the copilot.
        settings = parse_settings(BASIC.format(cap=5) + f"""
bot:
  llm: {{base_url: '{fake.base}', model: qwen-plus, timeout_s: 5}}
""", "<copilot>")
        async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
            _, page = await ui.console(browser, base, "alice-token-1234")
            shopper, _ = await customer(http, base)
            await shopper.send({"type": "message", "text": "羊绒围巾掉毛严重吗", "client_msg_id": msg_id()})
            await expect(page.locator("#messages .msg.from-customer")).to_have_count(1)
            box = page.locator("#reply-text")
            await page.locator("#suggest-btn").click()
            await expect(box).not_to_have_value("")
            draft = await box.input_value()
            assert "起球" in draft  # grounded: the nearest FAQ entry's answer
            assert len(fake.requests) == 1 and "羊绒围巾掉毛严重吗" in fake.requests[0]["messages"][1]["content"]
            # Drafted, not sent: the customer has heard nothing yet.
            await page.wait_for_timeout(500)
            assert not [f for f in shopper.of("message") if f["message"]["from"] == "agent"]
            await box.fill(draft + "（客服小艾）")
            await box.press("Enter")
            got = await shopper.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
            assert got["message"]["text"].endswith("（客服小艾）")
            # A draft that breaks a guardrail is not put in the box.
            fake.mode = "promise"
            await page.locator("#suggest-btn").click()
            await expect(page.locator(".toast.error").last).to_contain_text("withheld_money")
            await expect(box).to_have_value("")
            await shopper.close()


async def test_no_copilot_button_without_a_model(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        _, page = await ui.console(browser, base, "alice-token-1234")
        shopper, _ = await customer(http, base)
        await shopper.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        await expect(page.locator("#messages .msg.from-customer")).to_have_count(1)
        await page.locator("#suggest-btn").click()
        await expect(page.locator("#suggest-btn")).to_be_hidden()
        await shopper.close()
