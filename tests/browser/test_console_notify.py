"""Desktop notifications and the sound switch in real Chromium (issue 19): no permission prompt on
load; the header's Notifications button asks; while the tab is hidden a new chat gives exactly one
notification and a new message another, a visible tab none; clicking one opens that chat; the
Sound switch silences the tone and is remembered after a reload.

Chromium here is headless, so the notification itself is observed, not seen: an init script wraps
window.Notification to record each one made (and still makes it), counts permission requests,
counts oscillators (the tone), and lets the test hide and show the tab (document.hidden and the
visibilitychange event, as a minimised window gives them)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from helpers import console as ui
from helpers.app import basic_settings, running
from helpers.clients import customer, msg_id
from playwright.async_api import Browser, BrowserContext, Page, expect

OBSERVE = """(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden, configurable: true });
  Object.defineProperty(Document.prototype, "visibilityState", { get: () => (hidden ? "hidden" : "visible"), configurable: true });
  window.__setHidden = (h) => { hidden = h; document.dispatchEvent(new Event("visibilitychange")); };
  window.__notes = []; window.__noteObjects = []; window.__asked = 0; window.__tones = 0;
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title, options) {
      window.__notes.push({ title, body: options?.body ?? "", tag: options?.tag ?? "" });
      super(title, options);
      window.__noteObjects.push(this);
    }
    static requestPermission(...args) { window.__asked += 1; return Real.requestPermission(...args); }
  }
  window.Notification = Recorded;
  const osc = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__tones += 1; return osc.call(this); };
})();"""


async def observed_console(browser: Browser, base: str, token: str, grant: bool) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 760})
    if grant:
        await ctx.grant_permissions(["notifications"], origin=base)
    await ctx.add_init_script(OBSERVE)
    page = await ctx.new_page()
    await page.goto(f"{base}/console")
    await page.get_by_label("Agent token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#conn")).to_have_text("online")
    return ctx, page


async def notes(page: Page) -> list[dict[str, Any]]:
    return list(await page.evaluate("() => window.__notes"))


async def says(http: aiohttp.ClientSession, base: str, text: str) -> Any:
    cust, _ = await customer(http, base)
    await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    return cust


async def test_a_hidden_tab_notifies_once_per_new_chat_and_a_click_opens_it(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        # Nobody is asked on load, granted or not.
        _, fresh = await observed_console(browser, base, "sue-token-12345", grant=False)
        await fresh.wait_for_timeout(500)
        assert await fresh.evaluate("() => [window.__asked, Notification.permission]") == [0, "default"]
        await expect(fresh.get_by_role("button", name="Notifications")).to_have_attribute("aria-pressed", "false")

        _, page = await observed_console(browser, base, "alice-token-1234", grant=True)
        button = page.get_by_role("button", name="Notifications")
        await expect(button).to_have_attribute("aria-pressed", "false")
        # Granted by the browser but not switched on: a hidden tab stays quiet.
        await page.evaluate("() => window.__setHidden(true)")
        first = await says(http, base, "有人吗")
        await expect(page.locator("#convs .conv")).to_have_count(1)
        await page.wait_for_timeout(300)
        assert await notes(page) == []
        await page.evaluate("() => window.__setHidden(false)")

        await button.click()
        await expect(button).to_have_attribute("aria-pressed", "true")
        await expect(page.locator(".toast").last).to_contain_text("You will be notified")
        await page.evaluate("() => window.__setHidden(true)")
        second = await says(http, base, "我的订单还没到")
        await expect(page.locator("#convs .conv")).to_have_count(2)
        await page.wait_for_timeout(500)
        got = await notes(page)
        assert len(got) == 1, got
        assert re.fullmatch(r"New chat: Visitor \w+", got[0]["title"]), got
        assert got[0]["body"] == "我的订单还没到"
        cid = got[0]["tag"]

        # A new message in a chat the agent has: one more, titled by who wrote.
        await first.send({"type": "message", "text": "还在吗", "client_msg_id": msg_id()})
        await expect(page.locator("#convs .conv", has_text="还在吗")).to_have_count(1)
        await page.wait_for_timeout(300)
        got = await notes(page)
        assert len(got) == 2, got
        assert got[1]["title"].endswith(" wrote") and got[1]["body"] == "还在吗", got

        # Clicking the first notification brings the tab back with that chat open, ready to answer.
        await page.evaluate("() => { window.__setHidden(false); window.__noteObjects[0].dispatchEvent(new Event('click')); }")
        await expect(page.locator(f"#convs li.active .conv[data-id='{cid}']")).to_have_count(1)
        await expect(page.locator("#messages .msg.from-customer .body")).to_have_text(["我的订单还没到"])
        await expect(page.locator("#reply-text")).to_be_focused()

        # A visible tab shows the chat itself: no notification.
        third = await says(http, base, "第三位客户")
        await expect(page.locator("#convs .conv")).to_have_count(3)
        await page.wait_for_timeout(500)
        assert len(await notes(page)) == 2

        # Switched off, a hidden tab is quiet again.
        await button.click()
        await expect(button).to_have_attribute("aria-pressed", "false")
        await page.evaluate("() => window.__setHidden(true)")
        await third.send({"type": "message", "text": "喂", "client_msg_id": msg_id()})
        await expect(page.locator("#convs .conv", has_text="喂")).to_have_count(1)
        await page.wait_for_timeout(300)
        assert len(await notes(page)) == 2
        for c in (first, second, third):
            await c.close()


async def test_the_sound_switch_silences_the_tone_and_is_remembered(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        _, page = await observed_console(browser, base, "alice-token-1234", grant=False)
        sound = page.get_by_role("button", name="Sound")
        await expect(sound).to_have_attribute("aria-pressed", "true")
        one = await says(http, base, "你好")
        await expect(page.locator("#convs .conv")).to_have_count(1)
        await page.wait_for_function("() => window.__tones > 0")

        await sound.click()
        await expect(sound).to_have_attribute("aria-pressed", "false")
        before = await page.evaluate("() => window.__tones")
        two = await says(http, base, "在吗")
        await expect(page.locator("#convs .conv")).to_have_count(2)
        await one.send({"type": "message", "text": "有人吗", "client_msg_id": msg_id()})
        await expect(page.locator("#convs .conv", has_text="有人吗")).to_have_count(1)
        await page.wait_for_timeout(300)
        assert await page.evaluate("() => window.__tones") == before

        await page.reload()
        await expect(page.locator("#conn")).to_have_text("online")
        await expect(page.get_by_role("button", name="Sound")).to_have_attribute("aria-pressed", "false")
        await page.locator("#lang").click()
        await expect(page.get_by_role("button", name="提示音")).to_have_attribute("aria-pressed", "false")
        await expect(page.get_by_role("button", name="桌面通知")).to_be_visible()
        for c in (one, two):
            await c.close()


async def test_the_console_without_notification_support_hides_the_button(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base):
        ctx = await browser.new_context(locale="en-US")
        await ctx.add_init_script("delete window.Notification;")
        page = await ctx.new_page()
        errors = ui.page_errors(page)
        await page.goto(f"{base}/console")
        await page.get_by_label("Agent token").fill("alice-token-1234")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#conn")).to_have_text("online")
        await expect(page.locator("#notify-btn")).to_be_hidden()
        await expect(page.get_by_role("button", name="Sound")).to_be_visible()
        assert [e for e in errors if "Failed to load resource" not in e] == []
