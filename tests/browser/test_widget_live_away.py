"""Away mode follows the shop live (issue 19): a customer with the chat open on a phone sees the
leave-a-message form appear when the last agent goes, and go when one comes back, each with a
notice; once an agent has the chat the form stays away, until that agent leaves it."""

from __future__ import annotations

from helpers.app import running
from helpers.axe import assert_no_serious_violations
from helpers.console import UNNAMED_CONTROLS, console, customer_says, page_errors
from playwright.async_api import Browser, Page, expect

from router.config.settings import parse_settings

CONFIG = """
pools:
  - id: presale
agents:
  - id: alice
    name: Alice
    token: alice-token-1234
    pools: [presale]
    max_chats: 5
"""
SOON_MS = 3000
NOBODY = "客服暂时都不在线，您可以留下联系方式和问题，客服上线后会尽快回复您"
BACK = "客服已上线，请直接在这里发消息，客服会尽快回复您"


async def phone(browser: Browser, base: str) -> Page:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 780}, is_mobile=True,
                                    has_touch=True)
    page = await ctx.new_page()
    await page.goto(f"{base}/chat")
    await expect(page.locator("#conn")).to_have_text("已连接")
    return page


async def test_the_form_comes_and_goes_with_the_agents_while_the_chat_is_open(
        redis_url: str, browser: Browser) -> None:
    async with running(parse_settings(CONFIG, "<test>"), redis_url) as (_rt, base):
        _, desk = await console(browser, base, "alice-token-1234")
        chat = await phone(browser, base)
        errors = page_errors(chat)
        await chat.wait_for_timeout(300)
        await expect(chat.locator("#offhours")).to_be_hidden()

        # The last agent goes on a break: the open page offers the form, and says why.
        await desk.get_by_label("Status").select_option("away:break")
        await expect(chat.locator("#offhours")).to_be_visible(timeout=SOON_MS)
        await expect(chat.locator("#offhours-title")).to_have_text("暂时没有客服在线")
        await expect(chat.locator(".notice").last).to_have_text(NOBODY)
        await assert_no_serious_violations(chat, where="away mode pushed to an open page")

        # Back: the form goes, and the page says someone is here.
        await desk.get_by_label("Status").select_option("online")
        await expect(chat.locator("#offhours")).to_be_hidden(timeout=SOON_MS)
        await expect(chat.locator(".notice").last).to_have_text(BACK)

        # Once alice has the chat, her break does not bring the form back: she is still its agent.
        await customer_says(chat, "请问这件外套有M码吗")
        await expect(desk.locator("#convs .conv")).to_have_count(1)
        await expect(chat.locator("#status")).to_contain_text("Alice")
        notices = await chat.locator(".notice").count()
        await desk.get_by_label("Status").select_option("away:break")
        await chat.wait_for_timeout(1500)
        await expect(chat.locator("#offhours")).to_be_hidden()
        await expect(chat.locator(".notice")).to_have_count(notices)

        # She goes offline: the chat is back in line with nobody to take it, so the form is offered.
        answer = await desk.request.post(f"{base}/api/v1/agents/alice/status", data={"status": "offline"},
                                         headers={"Authorization": "Bearer alice-token-1234"})
        assert answer.ok, await answer.text()
        await expect(chat.locator("#offhours")).to_be_visible(timeout=SOON_MS)
        await expect(chat.locator("#status")).to_have_text("客服已离开，正在为您转接，请稍候")
        assert await chat.evaluate(UNNAMED_CONTROLS) == []
        assert errors == []
