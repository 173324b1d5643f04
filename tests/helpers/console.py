"""Browser helpers for console flows: a signed-in console, a customer on the chat page."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

DIALOG_FREE: list[str] = []
"""Messages of any JS dialog a page opened; a flow asserts none did (customer text stays text)."""

UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((e) => e.offsetParent !== null && !e.closest('[aria-hidden="true"]'))
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
  .map((e) => e.id || e.outerHTML.slice(0, 60))"""
"""Visible controls with no accessible name; a page evaluates this and expects []. A control kept
out of the accessibility tree (aria-hidden, e.g. a file input behind a labelled button) needs none."""


def page_errors(page: Page) -> list[str]:
    """Script errors and console errors (a CSP refusal among them) the page reports from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


async def console(browser: Browser, base: str, token: str, *, width: int = 1280) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(locale="en-US", viewport={"width": width, "height": 760})
    page = await ctx.new_page()
    page.on("dialog", lambda d: DIALOG_FREE.append(d.message))
    await page.goto(f"{base}/console")
    await page.get_by_label("Agent token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#conn")).to_have_text("online")
    return ctx, page


async def chat(browser: Browser, base: str) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 420, "height": 720})
    page = await ctx.new_page()
    page.on("dialog", lambda d: DIALOG_FREE.append(d.message))
    await page.goto(f"{base}/chat")
    await expect(page.locator("#conn")).to_have_text("已连接")
    return ctx, page


async def customer_says(page: Page, text: str) -> None:
    await page.locator("#text").fill(text)
    await page.locator("#text").press("Enter")


async def press(page: Page, target: Locator) -> None:
    """Put the mouse button down on the middle of `target` and keep it down: a test releases it
    with `page.mouse.up()` after whatever should happen under the press."""
    # The list redraws every second, and a redraw can catch the measure between taking a row's
    # insides out and putting them back (CI saw None once under load): measure again, bounded.
    box = None
    for _ in range(50):
        await expect(target).to_be_visible()
        box = await target.bounding_box()
        if box is not None:
            break
        await page.wait_for_timeout(20)
    assert box is not None, "the element to press is not shown"
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()


# The text nodes inside the element with the id given, except the values (<code class="v">): what
# a problem list says in the console's own words.
PROBLEM_TEXT = """(id) => {
  const out = [];
  const walker = document.createTreeWalker(document.getElementById(id), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || n.parentElement.closest('code.v')) continue;
    out.push(n.textContent.trim());
  }
  return out;
}"""
