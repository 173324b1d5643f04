"""Console flows in real Chromium: answer and close (flow 1), transfer (flow 2), reconnect."""

from __future__ import annotations

import asyncio

from helpers import console as ui
from helpers.app import basic_settings, running
from playwright.async_api import Browser, expect


async def test_flow1_customer_writes_agent_answers_and_closes(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (rt, base):
        _, agent = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "你好，这件大衣有M码吗？")

        row = agent.locator("#convs .conv")
        await expect(row).to_have_count(1)
        await expect(row.locator(".chan")).to_have_text("webchat")
        await expect(row.locator(".preview")).to_have_text("你好，这件大衣有M码吗？")
        await expect(agent.locator("#messages .msg.from-customer .body")).to_have_text("你好，这件大衣有M码吗？")
        await expect(agent).to_have_title("kefu console")  # the open conversation is not "unread"

        # Enter sends; Shift+Enter keeps writing on a new line.
        box = agent.locator("#reply-text")
        await box.fill("有的")
        await box.press("Shift+Enter")
        await box.type("亲～")
        await expect(box).to_have_value("有的\n亲～")
        await box.press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("有的\n亲～")
        await expect(agent.locator("#messages .msg.from-agent .delivery")).to_have_text("sent")
        await expect(box).to_have_value("")

        # Close with a resolution tag, from the keyboard.
        await agent.keyboard.press("Alt+e")
        await expect(agent.locator("#close-dlg")).to_be_visible()
        await agent.locator("#close-resolution").select_option("presale_question")
        await agent.get_by_role("button", name="Close", exact=True).last.click()
        await expect(agent.locator("#convs .conv")).to_have_count(0)
        await expect(agent.locator("#empty")).to_be_visible()
        [conv] = (await rt.store.conversations(await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1)))
        assert conv["state"] == "closed" and conv["resolution"] == "presale_question"
        assert ui.DIALOG_FREE == []


async def test_flow2_transfer_moves_the_chat_to_the_other_console(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base):
        _, alice = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "想换个尺码")
        await expect(alice.locator("#convs .conv")).to_have_count(1)
        _, bob = await ui.console(browser, base, "bob-token-12345")
        await expect(bob.locator("#convs .conv")).to_have_count(0)

        await alice.get_by_role("button", name="Transfer", exact=True).click()
        await alice.get_by_label("To agent").select_option("bob")
        await alice.get_by_label("Note for the next agent").fill("客户要换L码，订单已付款")
        await alice.locator("#transfer-form button[type=submit]").click()

        await expect(bob.locator("#convs .conv")).to_have_count(1)
        await expect(bob.locator("#messages .msg.from-customer .body")).to_have_text("想换个尺码")
        await expect(alice.locator("#convs .conv")).to_have_count(0)
        # Bob answers; the customer sees it.
        await bob.locator("#reply-text").fill("好的，帮您换L码")
        await bob.locator("#reply-text").press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("好的，帮您换L码")


async def test_console_reconnects_after_a_drop_without_losing_or_doubling(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (rt, base):
        _, agent = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "第一条")
        await expect(agent.locator("#messages .msg.from-customer")).to_have_count(1)

        # The server drops every socket; the console shows it is offline, then comes back.
        for ws in list(rt.sockets):
            await ws.close()
        await expect(agent.locator("#conn")).not_to_have_text("online", timeout=5000)
        await expect(chat.locator("#conn")).to_have_text("已连接", timeout=15000)
        await ui.customer_says(chat, "第二条")
        await expect(agent.locator("#conn")).to_have_text("online", timeout=15000)
        await expect(agent.locator("#messages .msg.from-customer .body")).to_have_text(["第一条", "第二条"])
        await agent.locator("#reply-text").fill("收到")
        await agent.locator("#reply-text").press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("收到")
        await asyncio.sleep(0.5)  # a second copy, if any, would have arrived by now
        await expect(agent.locator("#messages .msg.from-agent")).to_have_count(1)
        await expect(agent.locator("#convs .conv")).to_have_count(1)
