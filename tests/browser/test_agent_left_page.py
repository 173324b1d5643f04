"""The customer's page when their agent's console dies: a notice in the chat, then the next agent."""

from __future__ import annotations

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent
from playwright.async_api import Browser, expect

from router.config.settings import parse_settings


async def test_web_chat_shows_the_handover(browser: Browser, redis_url: str) -> None:
    s = parse_settings(BASIC.format(cap=2) + "ops:\n  disconnect_grace_s: 0.5\n", "<test>")
    async with running(s, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        ctx = await browser.new_context(locale="zh-CN")
        try:
            chat = await ctx.new_page()
            await chat.goto(f"{base}/chat")
            await expect(chat.locator("#conn")).to_have_text("已连接")
            await chat.locator("#text").fill("这件有M码吗")
            await chat.locator("#text").press("Enter")
            await alice.expect(lambda f: f["type"] == "assigned")
            await expect(chat.locator("#status")).to_have_text("客服 Alice 为您服务")

            bob = await agent(http, base, "bob-token-12345")
            await alice.close()
            await expect(chat.locator("#log .notice")).to_have_text(
                ["客服 Alice 已接入", "客服已离开，正在为您转接，请稍候", "客服 Bob 已接入"])
            await expect(chat.locator("#status")).to_have_text("客服 Bob 为您服务")
            # Only the notice: no second, outbox-sent text says the same thing.
            await expect(chat.locator("#log .msg.from-system")).to_have_count(0)
            await bob.close()
        finally:
            await ctx.close()
