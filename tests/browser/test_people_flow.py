"""Issue 16's browser flow, in Chromium: the admin signs in with a password and adds an agent in
the console; the new agent signs in with their password and writes a private note the customer
never sees; the supervisor sets the customer's segment to VIP; the customer's next conversation
shows the VIP badge and the VIP rule in "why this chat"."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from helpers import console as ui
from helpers.accounts import ADMIN_PASSWORD, SUE_TOKEN, shop_settings
from helpers.app import running
from playwright.async_api import Browser, Page, expect

RULES = """
default: {pool: presale}
rules:
  - name: vip-boost
    description: VIPs are served first whatever they ask
    when: {segment: vip}
    then: {boost: 10, tags: [vip]}
    continue: true
"""
CAROL_PASSWORD = "carol-Strong-pass-2024"
NOTE = "内部备注：客户说上次的快递压坏了，先别承诺赔付"


async def password_console(browser: Browser, base: str, aid: str, password: str) -> Page:
    ctx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    await page.goto(f"{base}/console")
    form = page.locator("#signin")
    await form.get_by_label("Agent ID").fill(aid)
    await form.get_by_label("Password", exact=True).fill(password)
    await form.get_by_role("button", name="Sign in", exact=True).click()
    # Up to 20 s for the socket (over 5 s once in a loaded run).
    await expect(page.locator("#conn")).to_have_text("online", timeout=20_000)
    return page


async def test_admin_adds_an_agent_who_notes_and_the_supervisor_makes_a_vip(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    rules = tmp_path / "routing.yaml"
    rules.write_text(RULES, encoding="utf-8")
    async with running(shop_settings(f"routing:\n  rules: {rules}\n"), redis_url) as (_rt, base), \
            aiohttp.ClientSession():
        # The admin, with a password, adds carol in the Team tab.
        ada = await password_console(browser, base, "ada", ADMIN_PASSWORD)
        wrong = await browser.new_page()
        await wrong.goto(f"{base}/console")
        await wrong.locator("#signin").get_by_label("Agent ID").fill("ada")
        await wrong.locator("#signin").get_by_label("Password", exact=True).fill("not the password")
        await wrong.locator("#signin").get_by_role("button", name="Sign in", exact=True).click()
        await expect(wrong.locator("#signin-error")).not_to_be_empty()
        await wrong.close()
        await ada.get_by_role("tab", name="Team").click()
        add = ada.locator("#team-add")
        await add.get_by_label("ID", exact=True).fill("carol")
        await add.get_by_label("Name").fill("Carol")
        await add.get_by_label("Role").select_option("agent")
        await add.get_by_label("Pools").fill("presale")
        await add.get_by_label("Password").fill(CAROL_PASSWORD)
        await add.get_by_role("button", name="Add an agent").click()
        await expect(ada.locator("#team-agents")).to_contain_text("Carol (carol)")

        # Carol signs in with her password, from the address that has just failed once (the
        # office's), not slowed by it, and takes the customer's chat.
        carol = await password_console(browser, base, "carol", CAROL_PASSWORD)
        await expect(carol.locator("#me")).to_have_text("Carol")
        _, shopper = await ui.chat(browser, base)
        await ui.customer_says(shopper, "我的快递盒子压坏了")
        row = carol.locator("#convs .conv")
        await expect(row).to_have_count(1)
        await row.click()
        await carol.get_by_role("button", name="Note").click()
        await carol.locator("#reply-text").fill(NOTE)
        await carol.locator("#reply-text").press("Enter")
        await expect(carol.locator("#messages .msg.note .body")).to_have_text(NOTE)
        await carol.get_by_role("button", name="Note").click()
        await carol.locator("#reply-text").fill("很抱歉，我这就帮您查")
        await carol.locator("#reply-text").press("Enter")
        await expect(shopper.locator(".msg.from-agent .body")).to_have_text(["很抱歉，我这就帮您查"])
        assert NOTE not in await shopper.locator("body").inner_text()
        await carol.get_by_role("button", name="Close", exact=True).click()
        await carol.locator("#close-form button[type=submit]").click()
        await expect(row).to_have_count(0)

        # The supervisor makes the customer a VIP from the records reader.
        _, sue = await ui.console(browser, base, SUE_TOKEN)
        await sue.get_by_role("tab", name="Records").click()
        # The tab's first view (all) must have loaded: records.js drops a view switch made while
        # a page is still loading (loadPage returns when busy).
        await expect(sue.locator("#rec-list button.rec")).not_to_have_count(0)
        await sue.get_by_role("button", name="Closed", exact=True).click()
        await sue.locator("#rec-list button.rec").first.click()
        panel = sue.locator("#rec-cust")
        await panel.get_by_role("button", name="Edit profile").click()
        await panel.get_by_label("Segment").select_option("vip")
        await panel.get_by_role("button", name="Save").click()
        await expect(panel.locator("#profile-status")).to_have_text("Profile saved.")

        # The next conversation: the VIP badge, and the VIP rule in why this chat came here.
        await ui.customer_says(shopper, "还有一个问题")
        await expect(row).to_have_count(1)
        await expect(row.locator(".who")).to_contain_text("VIP")
        await row.click()
        await expect(carol.locator("#conv-title .badge.vip")).to_be_visible()
        await expect(carol.locator("#why")).to_contain_text("vip-boost")
        assert NOTE not in await shopper.locator("body").inner_text()
