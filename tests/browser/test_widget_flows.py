"""Browser flows 3 and 4: the widget and the console survive a server restart without losing or
doubling a message, and hostile customer text stays text in both."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers.app import basic_settings, running
from helpers.procs import Serve
from playwright.async_api import Browser, BrowserContext, Page, expect

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
HOSTILE = "<img src=x onerror=alert(1)> 这件有M码吗"


async def _pages(browser: Browser, dialogs: list[str]) -> tuple[BrowserContext, BrowserContext, Page, Page]:
    cust_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 420, "height": 720})
    agent_ctx = await browser.new_context(locale="en-US", viewport={"width": 1100, "height": 700})
    chat, console = await cust_ctx.new_page(), await agent_ctx.new_page()
    for page in (chat, console):
        page.on("dialog", lambda d: dialogs.append(d.message))
    return cust_ctx, agent_ctx, chat, console


async def _sign_in(console: Page, base: str) -> None:
    await console.goto(f"{base}/console")
    await console.get_by_label("Agent token").fill("alice-token-1234")
    await console.get_by_role("button", name="Sign in").click()
    await expect(console.locator("#conn")).to_have_text("online")


async def _say(chat: Page, text: str) -> None:
    await chat.locator("#text").fill(text)
    await chat.locator("#text").press("Enter")


async def _reply(console: Page, text: str) -> None:
    await console.locator("#reply-text").fill(text)
    await console.locator("#reply-text").press("Enter")


async def test_flow3_widget_and_console_reconnect_after_a_restart(browser: Browser, tmp_path: Path) -> None:
    config = tmp_path / "kefu.yaml"
    config.write_text(CONFIG)
    data = tmp_path / "data"
    first = Serve(config, None, tmp_path, data_dir=data)
    first.wait_ready()
    dialogs: list[str] = []
    cust_ctx, agent_ctx, chat, console = await _pages(browser, dialogs)
    try:
        await _sign_in(console, first.base)
        await chat.goto(f"{first.base}/chat")
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await _say(chat, "第一条")
        await expect(console.locator("#messages .msg.from-customer .body")).to_have_text(["第一条"])
        await _reply(console, "回复一")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text(["回复一"])

        assert first.stop() == 0
        await expect(chat.locator("#conn")).to_have_text("连接中断，正在重连…")
        await expect(console.locator("#conn")).not_to_have_text("online")
        # Written while the server is down: kept as pending, sent once it is back.
        await _say(chat, "断线时写的")
        await expect(chat.locator(".msg.pending .body")).to_have_text(["断线时写的"])

        second = Serve(config, None, tmp_path, data_dir=data, port=first.port)
        second.wait_ready()
        try:
            await expect(chat.locator("#conn")).to_have_text("已连接", timeout=30_000)
            await expect(console.locator("#conn")).to_have_text("online", timeout=30_000)
            await expect(console.locator("#messages .msg.from-customer .body")).to_have_text(
                ["第一条", "断线时写的"], timeout=15_000)
            await expect(chat.locator(".msg.pending")).to_have_count(0)
            await _reply(console, "回复二")
            await expect(chat.locator(".msg.from-agent .body")).to_have_text(["回复一", "回复二"])
            await expect(console.locator("#messages .msg.from-agent .body")).to_have_text(["回复一", "回复二"])
            await expect(chat.locator(".msg.from-customer .body")).to_have_text(["第一条", "断线时写的"])

            # A reload on both sides still shows each message exactly once.
            await chat.reload()
            await console.reload()
            await expect(chat.locator("#conn")).to_have_text("已连接")
            await expect(console.locator("#conn")).to_have_text("online")
            await expect(chat.locator(".msg .body")).to_have_text(["第一条", "回复一", "断线时写的", "回复二"])
            await expect(console.locator("#messages .msg .body")).to_have_text(
                ["第一条", "回复一", "断线时写的", "回复二"])
        finally:
            assert second.stop() == 0
        assert dialogs == []
    finally:
        await cust_ctx.close()
        await agent_ctx.close()
        first.stop()


async def test_flow4_hostile_text_is_text_in_widget_and_console(redis_url: str, browser: Browser) -> None:
    dialogs: list[str] = []
    async with running(basic_settings(), redis_url) as (_rt, base):
        cust_ctx, agent_ctx, chat, console = await _pages(browser, dialogs)
        await _sign_in(console, base)
        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await _say(chat, HOSTILE)
        await expect(console.locator("#messages .msg.from-customer .body")).to_have_text([HOSTILE])
        await expect(chat.locator(".msg.from-customer .body")).to_have_text([HOSTILE])

        answer = '"><svg onload=alert(2)><script>alert(3)</script>'
        await _reply(console, answer)
        await expect(chat.locator(".msg.from-agent .body")).to_have_text([answer])
        await chat.reload()
        await expect(chat.locator(".msg .body")).to_have_text([HOSTILE, answer])
        await asyncio.sleep(0.5)  # an onerror handler would have fired by now
        for page, log in ((chat, "#log"), (console, "#messages")):
            assert await page.locator(f"{log} img, {log} svg, {log} script").count() == 0
        assert dialogs == []
        await cust_ctx.close()
        await agent_ctx.close()
