"""An agent's whole flow with the keyboard only (issue 19, accessibility), in real Chromium, with
150 customers writing at once (100 in the agent's list, her cap, the rest queued): sign in, skip to the content, walk the conversation list with the arrow
keys (one Tab stop however long the list), open a chat with Enter, answer with Enter and
Shift+Enter, open the transfer dialog with Alt+T and find Tab kept inside it and Esc giving focus
back, open the help with `?`, and close the chat through its dialog. No mouse event is sent."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from helpers.app import basic_settings, running
from helpers.clients import Socket, customer, msg_id
from playwright.async_api import Browser, Page, expect

CUSTOMERS = 150
CAP = 100

FOCUSED = """() => {
  const e = document.activeElement;
  return { id: e.id, tag: e.tagName, cls: e.className, data: e.dataset?.id || "", inDialog: !!e.closest("dialog"),
           dialog: e.closest("dialog")?.id || "", outline: getComputedStyle(e).outlineStyle,
           outlineWidth: getComputedStyle(e).outlineWidth, left: e.getBoundingClientRect().left };
}"""


async def focused(page: Page) -> dict[str, Any]:
    return dict(await page.evaluate(FOCUSED))


async def crowd(http: aiohttp.ClientSession, base: str, n: int) -> list[Socket]:
    async def one(i: int) -> Socket:
        sock, _ = await customer(http, base)
        await sock.send({"type": "message", "text": f"顾客{i:03d}的问题", "client_msg_id": msg_id()})
        return sock
    out: list[Socket] = []
    for start in range(0, n, 50):
        out += await asyncio.gather(*(one(i) for i in range(start, min(n, start + 50))))
    return out


async def test_an_agent_works_a_crowded_queue_with_the_keyboard_alone(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(cap=CAP), redis_url) as (_rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        ctx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 760})
        page = await ctx.new_page()
        await page.goto(f"{base}/console")
        # Sign in: the form starts in the ID field; the token field is two Tabs on.
        await expect(page.locator("#signin-id")).to_be_focused()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await expect(page.locator("#token")).to_be_focused()
        await page.keyboard.type("alice-token-1234")
        await page.keyboard.press("Enter")
        await expect(page.locator("#conn")).to_have_text("online")

        customers = await crowd(http, base, CUSTOMERS)
        rows = page.locator("#convs button.conv")
        await expect(rows).to_have_count(CAP, timeout=60000)

        # The first Tab on the page shows the skip link; Enter on it lands in the main content. Then
        # come the bulk bar and the conversation list: one stop for 100 rows (and that row's tick
        # box), then out of it.
        # (A reload starts the Tab order at the top of the page; the session cookie keeps her in.)
        await page.reload()
        await expect(page.locator("#conn")).to_have_text("online")
        await expect(rows).to_have_count(CAP, timeout=30000)
        await page.keyboard.press("Tab")
        first = await focused(page)
        assert first["cls"] == "skip" and first["left"] >= 0, first
        await page.keyboard.press("Enter")
        await expect(page.locator("#main")).to_be_focused()
        await page.keyboard.press("Tab")
        await expect(page.locator("#select-all")).to_be_focused()  # the bulk bar above the list
        await page.keyboard.press("Tab")
        at = await focused(page)
        assert "conv" in at["cls"] and at["data"], at
        assert await page.locator("#convs button.conv[tabindex='0']").count() == 1
        await page.keyboard.press("Tab")  # that row's bulk-close tick box, then out of the list
        assert (await focused(page))["cls"] == "pick"
        await page.keyboard.press("Tab")
        assert (await focused(page))["id"] == "transfer-btn"
        await page.keyboard.press("Shift+Tab")
        await page.keyboard.press("Shift+Tab")
        assert "conv" in (await focused(page))["cls"]

        # Arrows, Home and End walk the list, with a visible focus ring.
        await page.keyboard.press("End")
        last = await focused(page)
        assert last["data"] == await rows.nth(CAP - 1).get_attribute("data-id"), last
        await page.keyboard.press("Home")
        assert (await focused(page))["data"] == await rows.nth(0).get_attribute("data-id")
        for _ in range(3):
            await page.keyboard.press("ArrowDown")
        fourth = await focused(page)
        assert fourth["data"] == await rows.nth(3).get_attribute("data-id"), fourth
        assert fourth["outline"] == "solid" and fourth["outlineWidth"] == "3px", fourth
        await page.keyboard.press("ArrowUp")
        third = await focused(page)
        assert third["data"] == await rows.nth(2).get_attribute("data-id")

        # Enter opens it and puts the cursor in the reply box.
        await page.keyboard.press("Enter")
        await expect(page.locator(f"#convs li.active button[data-id='{third['data']}']")).to_have_count(1)
        await expect(page.locator("#reply-text")).to_be_focused()
        text = await page.locator("#messages .msg.from-customer .body").first.inner_text()
        who = customers[int(text[2:5])]

        # Shift+Enter breaks the line, Enter sends.
        await page.keyboard.type("您好")
        await page.keyboard.press("Shift+Enter")
        await page.keyboard.type("请稍等")
        await expect(page.locator("#reply-text")).to_have_value("您好\n请稍等")
        await page.keyboard.press("Enter")
        await who.expect(lambda f: f["type"] == "message" and f["message"].get("text") == "您好\n请稍等")
        await expect(page.locator("#reply-text")).to_have_value("")
        await expect(page.locator("#thread")).to_have_attribute("role", "log")

        # Alt+T: the transfer dialog takes focus and keeps it through a dozen Tabs either way.
        await page.keyboard.press("Alt+KeyT")
        await expect(page.locator("#transfer-dlg")).to_be_visible()
        assert (await focused(page))["dialog"] == "transfer-dlg"
        seen = set()
        for _ in range(12):
            await page.keyboard.press("Tab")
            now = await focused(page)
            assert now["dialog"] == "transfer-dlg", now
            seen.add(now["id"] or now["cls"] or now["tag"])
        for _ in range(12):
            await page.keyboard.press("Shift+Tab")
            assert (await focused(page))["dialog"] == "transfer-dlg"
        assert len(seen) >= 4, seen  # agent, pool, note and the buttons all came round
        await page.keyboard.press("Escape")
        await expect(page.locator("#transfer-dlg")).to_be_hidden()
        await expect(page.locator("#reply-text")).to_be_focused()  # back where it was opened from

        # `?` outside a text field opens the help; Esc gives focus back to the Send button.
        await page.keyboard.press("Tab")
        assert (await focused(page))["tag"] == "BUTTON"
        opener = await focused(page)
        await page.keyboard.press("?")
        await expect(page.locator("#help-dlg")).to_be_visible()
        assert (await focused(page))["dialog"] == "help-dlg"
        await expect(page.locator("#help-keys")).to_contain_text("Move in the conversation list")
        await page.keyboard.press("Escape")
        await expect(page.locator("#help-dlg")).to_be_hidden()
        assert (await focused(page))["cls"] == opener["cls"] and not (await focused(page))["inDialog"]

        # Alt+E, Tab to "Close", Enter: the chat is closed (a queued one takes its place); focus is
        # somewhere usable, not lost.
        await page.keyboard.press("Alt+KeyE")
        await expect(page.locator("#close-dlg")).to_be_visible()
        await expect(page.locator("#close-resolution")).to_be_focused()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await expect(page.locator("#close-dlg button[type=submit]")).to_be_focused()
        await page.keyboard.press("Enter")
        await who.expect(lambda f: f["type"] == "closed")
        await expect(page.locator(f"#convs button[data-id='{third['data']}']")).to_have_count(0)
        await expect(rows).to_have_count(CAP)
        await expect(page.locator("#close-dlg")).to_be_hidden()
        await page.wait_for_timeout(200)
        after = await focused(page)
        assert after["tag"] != "BODY" and not after["inDialog"], after
        for c in customers:
            await c.close()


async def test_focus_stays_usable_when_the_open_chat_is_closed_from_elsewhere(redis_url: str,
                                                                              browser: Browser) -> None:
    """The open chat's `closed` frame hides its composer. Whether it comes from the close dialog
    after the dialog already gave focus back (a slow server) or from another tab or the API, the
    agent's keyboard focus goes to the list or the main area, never to the page body."""
    async with running(basic_settings(cap=5), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        ctx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 760})
        page = await ctx.new_page()
        await page.goto(f"{base}/console")
        await page.locator("#signin-id").fill("alice")
        await page.locator("#token").fill("alice-token-1234")
        await page.keyboard.press("Enter")
        await expect(page.locator("#conn")).to_have_text("online")
        await crowd(http, base, 2)
        rows = page.locator("#convs button.conv")
        await expect(rows).to_have_count(2, timeout=30000)
        await rows.nth(0).click()
        cid = await rows.nth(0).get_attribute("data-id")
        send = page.locator("#reply button[type=submit]")
        await send.focus()
        assert (await focused(page))["tag"] == "BUTTON"

        async with http.post(f"{base}/api/v1/conversations/{cid}/close", json={"resolution": "resolved"},
                             headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200, await r.text()
        await expect(page.locator(f"#convs button[data-id='{cid}']")).to_have_count(0)
        await expect(rows).to_have_count(1)
        await page.wait_for_timeout(200)
        after = await focused(page)
        assert after["tag"] != "BODY" and not after["inDialog"], after
        # A click on a blank spot is the agent's own choice: a later frame does not move it.
        await page.mouse.click(5, 700)
        before = await focused(page)
        await crowd(http, base, 1)
        await expect(rows).to_have_count(2, timeout=30000)
        assert (await focused(page))["tag"] == before["tag"]
        await ctx.close()
