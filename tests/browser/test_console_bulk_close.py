"""Bulk close in the console (issue 19): an agent with a hundred chats ticks them (select all, one
unticked by keyboard), confirms once, and they close; each customer hears it once, the one left
out stays. Escape backs out and closes nothing."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers import console as ui
from helpers.app import basic_settings, running
from helpers.axe import assert_no_serious_violations
from helpers.clients import Socket, customer, msg_id
from playwright.async_api import Browser, expect

CHATS = 100


async def test_select_all_untick_one_by_keyboard_confirm_once_and_they_close(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(cap=CHATS), redis_url) as (rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        _, page = await ui.console(browser, base, "alice-token-1234")
        custs: list[Socket] = [s for s, _ in await asyncio.gather(*(customer(http, base) for _ in range(CHATS)))]
        await asyncio.gather(*(s.send({"type": "message", "text": f"发货了吗 {i}", "client_msg_id": msg_id()})
                               for i, s in enumerate(custs)))
        rows = page.locator("#convs li")
        await expect(rows).to_have_count(CHATS, timeout=60_000)
        bar = page.locator("#bulk-close-btn")
        await expect(bar).to_have_text("Close selected (0)")
        await expect(bar).to_be_disabled()

        # Keyboard: from a row, Tab reaches its checkbox and Space ticks it.
        await page.locator("#convs button.conv").first.focus()
        await page.keyboard.press("Tab")
        focused = page.locator("#convs input.pick:focus")
        await expect(focused).to_have_count(1)
        await page.keyboard.press("Space")
        await expect(bar).to_have_text("Close selected (1)")

        # Select all, then untick the second row by keyboard: 99 picked.
        await page.get_by_label("Select all").check()
        await expect(bar).to_have_text(f"Close selected ({CHATS})")
        keep = rows.nth(1)
        keep_id = await keep.locator("button.conv").get_attribute("data-id")
        await keep.locator("input.pick").focus()
        await page.keyboard.press("Space")
        await expect(bar).to_have_text(f"Close selected ({CHATS - 1})")
        assert await page.locator("#select-all").evaluate("(e) => e.indeterminate")

        # Escape backs out: nothing closed, focus back on the button.
        await bar.click()
        dlg = page.locator("#bulk-close-dlg")
        await expect(dlg).to_be_visible()
        await expect(page.locator("#bulk-close-h")).to_have_text(f"Close {CHATS - 1} conversations?")
        await expect(page.locator("#bulk-close-ok")).to_be_focused()
        await assert_no_serious_violations(page, "#bulk-close-dlg", "bulk close dialog")
        await page.keyboard.press("Escape")
        await expect(dlg).to_be_hidden()
        await expect(bar).to_be_focused()
        await asyncio.sleep(0.5)
        await expect(rows).to_have_count(CHATS)

        # Confirmed once: 99 close, the unticked one stays.
        await bar.click()
        await page.keyboard.press("Enter")
        await expect(page.locator(".toast", has_text=f"Closed {CHATS - 1}.")).to_be_visible(timeout=30_000)
        await expect(rows).to_have_count(1, timeout=30_000)
        await expect(page.locator("#convs button.conv")).to_have_attribute("data-id", keep_id or "")
        await expect(bar).to_have_text("Close selected (0)")
        for _ in range(100):
            if sum(1 for s in custs if s.of("closed")) >= CHATS - 1:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        closed = [s for s in custs if s.of("closed")]
        assert len(closed) == CHATS - 1 and all(len(s.of("closed")) == 1 for s in closed)
        conv = await rt.store.conversations.get(keep_id or "")
        assert conv is not None and conv.state.value == "assigned"
        await assert_no_serious_violations(page, ".queue", "queue with checkboxes")
        assert await page.evaluate(ui.UNNAMED_CONTROLS) == []
        for s in custs:
            await s.close()
