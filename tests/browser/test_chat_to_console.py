"""A customer writes in the chat page; an agent answers in the console; customer text stays text."""

from __future__ import annotations

from helpers.app import basic_settings, running
from helpers.shots import screenshot_path
from playwright.async_api import Browser, expect


async def test_chat_page_to_console_and_back(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base):
        cust_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 420, "height": 720})
        agent_ctx = await browser.new_context(locale="en-US", viewport={"width": 1100, "height": 700})
        dialogs: list[str] = []
        chat = await cust_ctx.new_page()
        console = await agent_ctx.new_page()
        for page in (chat, console):
            page.on("dialog", lambda d: dialogs.append(d.message))

        await console.goto(f"{base}/console")
        await console.get_by_label("Agent token").fill("alice-token-1234")
        await console.get_by_role("button", name="Sign in").click()
        await expect(console.locator("#conn")).to_have_text("online")

        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("已连接")
        hostile = "<img src=x onerror=alert(1)> 这件有M码吗"
        await chat.locator("#text").fill(hostile)
        await chat.locator("#text").press("Enter")

        # The console shows the conversation with its channel, and the text as text.
        await expect(console.locator(".conv .chan")).to_have_text("webchat")
        await expect(console.locator("#messages .msg.from-customer .body")).to_have_text(hostile)
        assert await console.locator("#messages img").count() == 0

        await console.locator("#reply-text").fill("有的，亲～")
        await console.locator("#reply-text").press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("有的，亲～")
        await expect(console.locator("#messages .msg.from-agent .delivery")).to_have_text("sent")

        # Reload: history comes back from localStorage, and nothing is shown twice.
        await chat.reload()
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await expect(chat.locator(".msg")).to_have_count(2)
        assert dialogs == []

        await console.screenshot(path=screenshot_path("console.png"))
        await cust_ctx.close()
        await agent_ctx.close()
