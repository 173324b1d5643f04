"""The console's customer panel and private notes in Chromium (issue 16): an agent writes a note in
Note mode that the customer's page never shows, a supervisor sets the customer's segment to VIP
from the records reader, and the customer's next conversation arrives with the VIP badge and the
VIP rule in "why this chat"."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from helpers import console as ui
from helpers.app import BASIC, running
from helpers.clients import agent
from playwright.async_api import Browser, expect

from router.config.settings import parse_settings

RULES = """
default: {pool: presale}
rules:
  - name: vip-boost
    description: VIPs are served first whatever they ask
    when: {segment: vip}
    then: {boost: 10, tags: [vip]}
    continue: true
"""
NOTE = "内部：这位客户上次退款有争议 @bob"


async def test_note_in_note_mode_and_vip_from_the_side_panel(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    rules = tmp_path / "routing.yaml"
    rules.write_text(RULES, encoding="utf-8")
    settings = parse_settings(BASIC.format(cap=5) + f"routing:\n  rules: {rules}\n", "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        bob = await agent(http, base, "bob-token-12345")  # mentioned: gets a `mention` frame
        _, alice = await ui.console(browser, base, "alice-token-1234")
        errors = ui.page_errors(alice)
        _, shopper = await ui.chat(browser, base)
        await ui.customer_says(shopper, "你好，想问下尺码")
        row = alice.locator("#convs .conv")
        await expect(row).to_have_count(1)
        await row.click()

        # Note mode: the box turns into a note composer; what it sends is a highlighted note.
        toggle = alice.get_by_role("button", name="Note")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await expect(alice.locator("#reply-text")).to_have_attribute("placeholder", "Private note… the customer never sees it. @id notifies a colleague.")
        await alice.locator("#reply-text").fill(NOTE)
        await alice.locator("#reply-text").press("Enter")
        note = alice.locator("#messages .msg.note")
        await expect(note.locator(".body")).to_have_text(NOTE)
        await expect(note.locator(".note-label")).to_have_text("Private note")
        mention = await bob.expect(lambda f: f["type"] == "mention")
        assert mention["by"] == "alice" and mention["message"]["text"] == NOTE
        # Back to replies: the customer gets the reply, never the note.
        await toggle.click()
        await alice.locator("#reply-text").fill("您好，请问您平时穿什么码？")
        await alice.locator("#reply-text").press("Enter")
        await expect(shopper.locator(".msg.from-agent .body")).to_have_text(["您好，请问您平时穿什么码？"])
        assert NOTE not in await shopper.locator("body").inner_text()
        await alice.get_by_role("button", name="Close", exact=True).click()
        await alice.locator("#close-form button[type=submit]").click()
        await expect(row).to_have_count(0)

        # The supervisor opens the conversation in the records and makes the customer a VIP.
        _, sue = await ui.console(browser, base, "sue-token-12345")
        await sue.get_by_role("tab", name="Records").click()
        # The supervisor's default view (All) lists the one conversation, closed.
        await expect(sue.locator("#rec-views [aria-pressed=true]")).to_have_text("All")
        await expect(sue.locator("#rec-list button.rec")).to_have_count(1)
        await sue.locator("#rec-list button.rec").first.click()
        panel = sue.locator("#rec-cust")
        await expect(panel.locator(".cust-name")).to_be_visible()
        await expect(sue.locator("#rec-messages .msg.note .body")).to_have_text(NOTE)  # staff see notes
        await panel.get_by_role("button", name="Edit profile").click()
        await panel.get_by_label("Name").fill("王小姐")
        await panel.get_by_label("Segment").select_option("vip")
        await panel.get_by_label("Tags").fill("大码, 老客")
        await panel.get_by_role("button", name="Save").click()
        await expect(panel.locator("#profile-status")).to_have_text("Profile saved.")
        await expect(panel.locator(".cust-name")).to_have_text("王小姐")
        await expect(panel.locator(".badge.vip")).to_have_text("VIP")
        # A value the server refuses says why and changes nothing.
        await panel.get_by_role("button", name="Edit profile").click()
        await panel.get_by_label("Phone").fill("call me")
        await panel.get_by_role("button", name="Save").click()
        await expect(panel.locator("#profile-status")).to_contain_text("phone")
        await expect(panel.locator(".badge.vip")).to_have_text("VIP")

        # The customer comes back: the new conversation carries the badge and the VIP rule.
        await ui.customer_says(shopper, "我又来了，上次的尺码问题")
        await expect(row).to_have_count(1)
        await expect(row.locator(".who")).to_contain_text("王小姐")
        await expect(row.locator(".who")).to_contain_text("VIP")
        await row.click()
        await expect(alice.locator("#conv-title .badge.vip")).to_be_visible()
        await expect(alice.locator("#why")).to_contain_text("vip-boost")
        await expect(alice.locator("#cust .cust-name")).to_have_text("王小姐")
        # (A 404 is the orders panel of a shop without an order service: the panel hides.)
        assert [e for e in errors if "404" not in e] == []
        await bob.close()
