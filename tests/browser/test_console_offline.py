"""The console's network drops (the browser's WebSocket is cut and new ones are refused for a
while): it says it is offline, keeps a reply written meanwhile, and after reconnecting sends that
reply once and shows the customer's messages from the gap once."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import customer, msg_id
from playwright.async_api import Browser, WebSocketRoute, expect


async def test_a_reply_written_offline_is_sent_once_after_the_network_returns(
        redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        ctx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 760})
        page = await ctx.new_page()
        network = {"up": True}
        live: list[WebSocketRoute] = []

        async def through(route: WebSocketRoute) -> None:
            if not network["up"]:
                await route.close(code=1006)  # what a dead network looks like to the page
                return
            route.connect_to_server()
            live.append(route)

        await page.route_web_socket("**/ws/agent", through)
        await page.goto(f"{base}/console")
        await page.get_by_label("Agent token").fill("alice-token-1234")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#conn")).to_have_text("online")

        shopper, _ = await customer(http, base)
        await shopper.send({"type": "message", "text": "在吗？", "client_msg_id": msg_id()})
        await expect(page.locator("#messages .msg.from-customer")).to_have_count(1)
        first = await page.locator("#messages .msg").first.element_handle()

        network["up"] = False
        for route in live:
            await route.close(code=1006)
        await expect(page.locator("#conn")).to_have_text("offline, reconnecting…")
        await page.locator("#reply-text").fill("在的，您请说")
        await page.locator("#reply-text").press("Enter")
        await expect(page.locator("#messages .msg.from-agent .delivery")).to_have_text("queued until reconnected")
        await shopper.send({"type": "message", "text": "大衣能开发票吗", "client_msg_id": msg_id()})
        await asyncio.sleep(1.0)  # the console keeps retrying while the network is down
        await expect(page.locator("#conn")).not_to_have_text("online")

        network["up"] = True
        await expect(page.locator("#conn")).to_have_text("online", timeout=20000)
        await expect(page.locator("#messages .msg.from-customer .body")).to_have_text(["在吗？", "大衣能开发票吗"])
        await expect(page.locator("#messages .msg.from-agent .delivery")).to_have_text("sent")
        got = await shopper.expect(lambda f: f["type"] == "message" and f["message"]["from"] == "agent")
        assert got["message"]["text"] == "在的，您请说"
        await asyncio.sleep(1.0)  # a second copy, if any, would have arrived by now
        assert [f["message"]["text"] for f in shopper.of("message") if f["message"]["from"] == "agent"] == [
            "在的，您请说"]
        await expect(page.locator("#messages .msg.from-agent")).to_have_count(1)
        # The log grew in place (a live region that is rebuilt is read out again in full).
        assert await first.evaluate("e => e.isConnected")
        await shopper.close()
        await ctx.close()
