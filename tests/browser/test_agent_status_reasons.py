"""An agent goes away with a reason from the header (issue 19): a break, training, or the shop's
own reason in the agent's language. New chats wait instead of coming to them, the chats they have
stay, a supervisor sees the reason and since when, and the time away is counted per reason."""

from __future__ import annotations

import asyncio

from helpers import console as ui
from helpers.app import BASIC, running
from playwright.async_api import Browser, expect

from router.config.settings import parse_settings

CONFIG = BASIC.format(cap=5) + """
ops:
  away_reasons:
    - {id: meeting, zh: 开会, en: In a meeting}
"""


async def test_a_break_pauses_new_chats_keeps_open_ones_and_shows_to_the_supervisor(
        redis_url: str, browser: Browser) -> None:
    async with running(parse_settings(CONFIG, "<test>"), redis_url) as (rt, base):
        _, alice = await ui.console(browser, base, "alice-token-1234")
        _, first = await ui.chat(browser, base)
        await ui.customer_says(first, "我想问一下尺码")
        await expect(alice.locator("#convs .conv")).to_have_count(1)

        # The picker offers the built-in reasons and the shop's own, in English.
        status = alice.get_by_label("Status")
        for label in ("online", "away", "away · busy", "away · on a break", "away · in training",
                      "away · In a meeting"):
            await expect(status.locator("option", has_text=label).first).to_be_attached()
        await status.select_option(label="away · on a break")
        async def away() -> bool:
            agent = await rt.store.agents.get("alice")
            return agent is not None and agent.status.value == "away" and agent.away_reason == "break"
        for _ in range(50):
            if await away():
                break
            await asyncio.sleep(0.1)
        assert await away()

        # A new customer waits in the queue; alice's open chat stays hers.
        _, second = await ui.chat(browser, base)
        await ui.customer_says(second, "有人吗")
        await asyncio.sleep(1.0)
        await expect(alice.locator("#convs .conv")).to_have_count(1)
        agent = await rt.store.agents.get("alice")
        assert agent is not None and agent.load == 1

        # A reload keeps the reason.
        await alice.reload()
        await expect(alice.locator("#conn")).to_have_text("online")
        await expect(alice.get_by_label("Status")).to_have_value("away:break")

        # The supervisor's Team tab says why and since when.
        _, sue = await ui.console(browser, base, "sue-token-12345")
        await sue.get_by_role("tab", name="Team").click()
        row = sue.locator("#team-agents tr", has_text="Alice (alice)")
        await expect(row.locator("td.st")).to_contain_text("away · on a break · since")

        # The shop's own reason in Chinese, once the console speaks it.
        await alice.locator("#lang").click()
        await expect(alice.locator("#status option[value='away:meeting']")).to_have_text("离开 · 开会")
        await alice.locator("#status").select_option("away:meeting")
        await asyncio.sleep(1.2)

        # Back online: the waiting customer comes to her, and the break was counted.
        await alice.locator("#status").select_option("online")
        await expect(alice.locator("#convs .conv")).to_have_count(2)
        agent = await rt.store.agents.get("alice")
        assert agent is not None and agent.away_reason == ""
        assert agent.away_today.get("break", 0) >= 1.0
        assert agent.away_today.get("meeting", 0) >= 1.0
        await sue.get_by_role("tab", name="Inbox").click()
        await sue.get_by_role("tab", name="Team").click()
        await expect(row.locator("td.away-today")).to_contain_text("on a break")
        await expect(row.locator("td.away-today")).to_contain_text("In a meeting")
        assert await alice.evaluate(ui.UNNAMED_CONTROLS) == []
