"""An agent's status is pushed (issue 19): set in one console, every other console of the same
agent (another tab, another device) and every supervisor's floor view and Team tab show it within
a second, without reloading and before the supervisor page's own refresh."""

from __future__ import annotations

from helpers import console as ui
from helpers.app import basic_settings, running
from playwright.async_api import Browser, expect

SOON_MS = 1000
"""Well under the supervisor page's 5 s refresh: only a pushed frame makes it in time."""


async def test_a_status_set_in_one_console_shows_in_the_others_and_to_the_supervisor(
        redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base):
        _, sue = await ui.console(browser, base, "sue-token-12345", width=1400)
        await sue.keyboard.press("Alt+2")
        agents = sue.locator("#sv-agents")
        await expect(agents).to_contain_text("Alice")
        _, desk = await ui.console(browser, base, "alice-token-1234")
        _, laptop = await ui.console(browser, base, "alice-token-1234")
        await expect(agents.locator("tr", has_text="Alice")).to_contain_text("online")
        errors = [ui.page_errors(laptop), ui.page_errors(sue)]

        await desk.get_by_label("Status").select_option("away:break")
        await expect(laptop.get_by_label("Status")).to_have_value("away:break", timeout=SOON_MS)
        await expect(agents.locator("tr", has_text="Alice")).to_contain_text("away · on a break",
                                                                              timeout=SOON_MS)

        # In Chinese on the other device: 小休 there too, and back to online from that one.
        await laptop.locator("#lang").click()
        await expect(laptop.locator("#status option:checked")).to_have_text("离开 · 小休")
        await laptop.get_by_label("状态").select_option("online")
        await expect(desk.get_by_label("Status")).to_have_value("online", timeout=SOON_MS)
        row = agents.locator("tr", has_text="Alice")
        await expect(row).to_contain_text("online", timeout=SOON_MS)
        await expect(row).not_to_contain_text("away")

        # The Team tab follows too.
        await sue.get_by_role("tab", name="Team").click()
        team_row = sue.locator("#team-agents tr", has_text="Alice (alice)")
        await expect(team_row.locator("td.st")).to_have_text("online")
        await desk.get_by_label("Status").select_option("away:training")
        await expect(team_row.locator("td.st")).to_contain_text("away · in training", timeout=SOON_MS)
        await expect(laptop.get_by_label("状态")).to_have_value("away:training", timeout=SOON_MS)
        assert errors == [[], []]
