"""Waiting for the customer in the console (issue 19): the agent parks a chat, it moves to the
"Waiting for customer" section with what it waits for; the customer writing brings it back to the
active list, unread, with a toast; a chat parked until a time says until when and is taken back
with one button."""

from __future__ import annotations

from helpers import console as ui
from helpers.app import basic_settings, running
from helpers.axe import assert_no_serious_violations
from playwright.async_api import Browser, expect


async def test_park_a_chat_see_it_wait_and_the_customer_wakes_it(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (rt, base):
        _, agent = await ui.console(browser, base, "alice-token-1234")
        _, first = await ui.chat(browser, base)
        await ui.customer_says(first, "我的快递到哪了")
        active = agent.locator("#convs li")
        parked = agent.locator("#waiting-convs li")
        await expect(active).to_have_count(1)
        await expect(agent.locator("#waiting-section")).to_be_hidden()
        first_id = await agent.locator("#convs button.conv").first.get_attribute("data-id")
        await agent.locator("#convs button.conv").first.click()

        # Park it until the customer writes, from the keyboard.
        await agent.get_by_role("button", name="Wait for customer").click()
        dlg = agent.locator("#wait-dlg")
        await expect(dlg).to_be_visible()
        await expect(agent.get_by_label("Until")).to_be_focused()
        await assert_no_serious_violations(agent, "#wait-dlg", "wait dialog")
        await agent.keyboard.press("Tab")
        await agent.keyboard.press("Tab")
        await expect(agent.get_by_role("button", name="Wait", exact=True)).to_be_focused()
        await agent.keyboard.press("Enter")
        await expect(dlg).to_be_hidden()
        await expect(parked).to_have_count(1)
        await expect(active).to_have_count(0)
        await expect(agent.locator("#waiting-h")).to_have_text("Waiting for customer")
        await expect(parked.first).to_contain_text("until they write")
        await expect(agent.get_by_role("button", name="Back to active")).to_be_visible()
        conv = await rt.store.conversations.get(first_id or "")
        assert conv is not None and conv.waiting and conv.agent == "alice"

        # A second chat comes; the agent works on it. Then the first customer writes: it wakes.
        _, second = await ui.chat(browser, base)
        await ui.customer_says(second, "这件有黑色吗")
        await expect(active).to_have_count(1)
        await active.first.locator("button.conv").click()
        await ui.customer_says(first, "还没收到")
        await expect(agent.locator(".toast", has_text="wrote: back in your active chats")).to_be_visible()
        await expect(active).to_have_count(2)
        await expect(agent.locator("#waiting-section")).to_be_hidden()
        woken = agent.locator(f"#convs button.conv[data-id='{first_id}']")
        await expect(woken.locator(".unread")).to_have_text("1")

        # Parked for 4 hours: says until when; "Back to active" takes it back.
        await woken.click()
        await agent.get_by_role("button", name="Wait for customer").click()
        await agent.get_by_label("Until").select_option(label="4 hours")
        await agent.get_by_role("button", name="Wait", exact=True).click()
        await expect(parked.first).to_contain_text("until ")
        await expect(parked.first).not_to_contain_text("until they write")
        conv = await rt.store.conversations.get(first_id or "")
        assert conv is not None and conv.waiting_until is not None
        await assert_no_serious_violations(agent, ".queue", "queue with a waiting section")
        await agent.get_by_role("button", name="Back to active").click()
        await expect(parked).to_have_count(0)
        await expect(active).to_have_count(2)
        conv = await rt.store.conversations.get(first_id or "")
        assert conv is not None and not conv.waiting

        # In Chinese, the section and the button speak Chinese.
        await agent.get_by_role("button", name="Wait for customer").click()
        await agent.get_by_role("button", name="Wait", exact=True).click()
        await agent.locator("#lang").click()
        await expect(agent.locator("#waiting-h")).to_have_text("等待客户")
        await expect(agent.locator("#wait-btn")).to_have_text("恢复处理")
        assert await agent.evaluate(ui.UNNAMED_CONTROLS) == []
