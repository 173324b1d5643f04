"""Agents' pictures and the uploaded welcome logo in Chromium (issue 19): an agent uploads a picture
from My account; the customer's widget on a phone shows it in the "客服 Alice 已接入" notice and
beside the agent's bubble, and the console's thread shows it beside the agent's name; an admin
uploads the welcome card's logo in Shop set-up and a new customer's card shows it. Axe-clean."""

from __future__ import annotations

import io
from pathlib import Path

from helpers import console as ui
from helpers import images
from helpers.accounts import ADMIN_TOKEN, shop_settings
from helpers.app import basic_settings, running
from helpers.axe import assert_no_serious_violations
from helpers.shots import screenshot_path
from PIL import Image, ImageDraw
from playwright.async_api import Browser, expect

PICTURE = r"^/api/v1/media/md_[0-9a-f]{32}$"


def portrait() -> bytes:
    """A drawn head and shoulders, so the screenshot shows a picture and not a plain square."""
    img = Image.new("RGB", (160, 160), (191, 219, 254))
    draw = ImageDraw.Draw(img)
    draw.ellipse((22, 104, 138, 220), fill=(30, 64, 175))  # shoulders
    draw.ellipse((48, 30, 112, 94), fill=(253, 224, 196))  # face
    draw.chord((44, 22, 116, 76), 180, 360, fill=(55, 38, 28))  # hair
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


async def test_an_agents_picture_shows_in_the_console_and_the_customers_widget(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    face = tmp_path / "alice.png"
    face.write_bytes(portrait())
    async with running(basic_settings(), redis_url) as (rt, base):
        _, alice = await ui.console(browser, base, "alice-token-1234")
        errors = ui.page_errors(alice)
        alice.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
        await alice.get_by_role("tab", name="Team").click()
        mine = alice.locator("#account-picture")
        await expect(mine.locator("span.avatar.initials")).to_have_text("A")  # no picture yet: initials
        await mine.get_by_label("Choose a picture (PNG, JPEG or WebP, up to 2 MB)").set_input_files(str(face))
        await expect(alice.locator(".toast")).to_contain_text(["Picture saved."])
        await expect(mine.locator("img.avatar")).to_have_attribute("src", _re(PICTURE))
        url = await mine.locator("img.avatar").get_attribute("src")
        agent = await rt.store.agents.get("alice")
        assert agent is not None and agent.avatar == url
        # The Team list shows it beside her name.
        await expect(alice.locator('#team-agents tr[data-agent="alice"] img.avatar')).to_have_attribute("src", url or "")
        await assert_no_serious_violations(alice, "#tab-team", "team tab with a picture")
        await alice.get_by_role("tab", name="Inbox").click()

        # The customer on a phone: the joined notice and the agent's bubble carry her face.
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 780}, is_mobile=True)
        shopper = await ctx.new_page()
        await shopper.goto(f"{base}/chat")
        await expect(shopper.locator("#conn")).to_have_text("已连接")
        await ui.customer_says(shopper, "你好，这件有蓝色吗？")
        joined = shopper.locator("#log .notice.with-agent")
        await expect(joined).to_contain_text("Alice")
        await expect(joined.locator("img.avatar")).to_have_attribute("src", url or "")
        row = alice.locator("#convs .conv")
        await expect(row).to_have_count(1)
        await row.click()
        await alice.locator("#reply-text").fill("有的，蓝色有 S 到 XL。")
        await alice.locator("#reply-text").press("Enter")
        bubble = shopper.locator(".msg.from-agent")
        await expect(bubble.locator(".body")).to_have_text(["有的，蓝色有 S 到 XL。"])
        await expect(bubble.locator("img.avatar")).to_have_attribute("src", url or "")
        loaded = await bubble.locator("img.avatar").evaluate("(img) => img.complete && img.naturalWidth > 0")
        assert loaded, "the widget loads the picture without any credential"
        await assert_no_serious_violations(shopper, None, "widget with the agent's picture")
        await shopper.screenshot(path=screenshot_path("chat-agent-picture.png"))

        # The console's own thread shows her face beside her name.
        mine_in_thread = alice.locator("#messages .msg.from-agent .who-row img.avatar")
        await expect(mine_in_thread).to_have_attribute("src", url or "")
        await assert_no_serious_violations(alice, None, "console thread with the agent's picture")

        # She removes it: initials again in her account, and the next page load of the customer.
        await alice.get_by_role("tab", name="Team").click()
        await mine.get_by_role("button", name="Remove picture").click()
        await expect(mine.locator("span.avatar.initials")).to_have_text("A")
        assert (await rt.store.agents.get("alice")).avatar == ""  # type: ignore[union-attr]
        await shopper.reload()
        await expect(shopper.locator(".msg.from-agent .avatar")).to_have_text("A")
        # No script error and no picture that failed to load (a shop without an order backend
        # answers the side panel's orders with 404: that one is expected).
        assert [e for e in errors if "/orders?" not in e and not e.startswith("Failed to load resource")] == [], errors
        await ctx.close()


async def test_an_admin_sets_and_removes_an_agents_picture_in_the_team_tab(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    face = tmp_path / "alice.png"
    face.write_bytes(portrait())
    async with running(shop_settings(), redis_url) as (rt, base):
        _, ada = await ui.console(browser, base, ADMIN_TOKEN)
        await ada.get_by_role("tab", name="Team").click()
        row = ada.locator('#team-agents tr[data-agent="alice"]')
        await expect(row.locator("span.avatar.initials")).to_have_text("A")
        await row.get_by_label("Picture for Alice").set_input_files(str(face))
        await expect(row.locator("img.avatar")).to_have_attribute("src", _re(PICTURE))
        assert (await rt.store.agents.get("alice")).avatar == await row.locator("img.avatar").get_attribute("src")  # type: ignore[union-attr]
        await assert_no_serious_violations(ada, "#tab-team", "team tab, an agent with a picture")
        await row.get_by_role("button", name="Remove picture of Alice").click()
        await expect(row.locator("span.avatar.initials")).to_have_text("A")
        assert (await rt.store.agents.get("alice")).avatar == ""  # type: ignore[union-attr]


async def test_an_admin_uploads_the_welcome_logo_and_the_card_shows_it(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(images.png(240, 96))
    settings = shop_settings("channels:\n  webchat:\n    welcome:\n      name: 云裳\n")
    async with running(settings, redis_url) as (rt, base):
        _, ada = await ui.console(browser, base, ADMIN_TOKEN)
        errors = ui.page_errors(ada)
        await ada.get_by_role("tab", name="Shop set-up").click()
        section = ada.locator("#setup-logo")
        await expect(section).to_be_visible()
        await expect(section.locator("#setup-logo-preview")).to_have_text("No logo.")
        await section.get_by_label("Upload a logo (PNG, JPEG or WebP, up to 512 KB)").set_input_files(str(logo))
        await expect(ada.locator(".toast")).to_contain_text(["Logo saved: the chat page shows it now."])
        preview = section.get_by_role("img", name="The welcome card's logo")
        await expect(preview).to_have_attribute("src", _re(PICTURE))
        url = await preview.get_attribute("src")
        assert url == await rt.store.live.logo()
        await assert_no_serious_violations(ada, "#tab-setup", "set-up with the uploaded logo")

        _, shopper = await ui.chat(browser, base)
        card = shopper.locator("#welcome")
        await expect(card).to_be_visible()
        await expect(card.locator("#welcome-logo")).to_have_attribute("src", url or "")
        await expect(card.locator("#welcome-logo")).to_have_attribute("alt", _re("云裳"))
        loaded = await card.locator("#welcome-logo").evaluate("(img) => img.complete && img.naturalWidth === 240")
        assert loaded
        await assert_no_serious_violations(shopper, None, "welcome card with the uploaded logo")

        # Removed: the card has no logo (the config names none).
        await section.get_by_role("button", name="Remove uploaded logo").click()
        await expect(section.locator("#setup-logo-preview")).to_have_text("No logo.")
        _, later = await ui.chat(browser, base)
        await expect(later.locator("#welcome")).to_be_visible()
        await expect(later.locator("#welcome-logo")).to_be_hidden()
        assert errors == [], errors


def _re(pattern: str) -> object:
    import re

    return re.compile(pattern)
