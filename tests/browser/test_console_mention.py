"""A colleague named in a note opens the conversation from the toast, in real Chromium: the
conversation is not his, and before the note the reader refused it."""

from __future__ import annotations

import aiohttp
from helpers import console as ui
from helpers.app import BASIC, running
from helpers.clients import agent, customer, msg_id
from playwright.async_api import Browser, expect

from router.config.settings import parse_settings


async def test_the_mention_toast_opens_the_conversation_for_the_named_agent(redis_url: str, browser: Browser) -> None:
    async with running(parse_settings(BASIC.format(cap=100), "<test>"), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        shopper, _ = await customer(http, base)
        await shopper.send({"type": "message", "text": "这件外套有加绒款吗", "client_msg_id": msg_id()})
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        _, bob = await ui.console(browser, base, "bob-token-12345")
        errors = ui.page_errors(bob)
        await alice.send({"type": "note", "conversation_id": cid, "text": "@bob 加绒款的库存你清楚吗",
                          "client_msg_id": "n1"})
        toast = bob.locator(".toast").filter(has_text="mentioned you")
        await expect(toast).to_contain_text("加绒款的库存你清楚吗")
        await toast.get_by_role("link", name="Open the conversation").click()
        await expect(bob.locator("#rec-current")).to_be_visible()
        messages = bob.locator("#rec-messages")
        await expect(messages).to_contain_text("这件外套有加绒款吗")
        await expect(messages).to_contain_text("加绒款的库存你清楚吗")
        assert errors == []
        for sock in (alice, shopper):
            await sock.close()
