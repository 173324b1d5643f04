"""axe-core over every page a person meets (issue 19, accessibility): the sign-in page, the
console's inbox with a chat open and its side panels, each tab (records, supervisor, reports,
rules, team, shop set-up, audit log), the dialogs, and the customer widget on a phone, in English
and in Chinese. A serious or critical violation fails the test and names its nodes."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from helpers import console as ui
from helpers.app import BASIC, running
from helpers.axe import assert_no_serious_violations
from helpers.bot_app import bot_settings
from helpers.clients import agent, msg_id
from playwright.async_api import Browser, Page, expect

from router.config.settings import Settings, parse_settings

ADMIN_TOKEN = "ada-admin-token-1"
TABS = ("Records", "Supervisor", "Reports", "Rules", "Team", "Shop set-up", "Audit log")
TABS_ZH = ("会话记录", "主管", "报表", "路由规则", "团队", "店铺设置", "操作日志")


def admin_settings(tmp_path: Path) -> Settings:
    admin = f"  - id: ada\n    name: Ada\n    token: {ADMIN_TOKEN}\n    role: admin\n    pools: [presale]\n"
    return parse_settings(BASIC.format(cap=5).replace("worker:\n", admin + "worker:\n", 1), "<test>")


async def check(page: Page, where: str, include: str | None = None) -> None:
    await assert_no_serious_violations(page, include=include, where=where)


async def test_sign_in_page_in_both_languages(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path), redis_url) as (_rt, base):
        for locale in ("en-US", "zh-CN"):
            ctx = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 760})
            page = await ctx.new_page()
            await page.goto(f"{base}/console")
            await expect(page.locator("#signin")).to_be_visible()
            await check(page, f"sign-in ({locale})")
            await ctx.close()


async def test_inbox_thread_side_panels_and_dialogs(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base):
        _, bob = await ui.console(browser, base, "bob-token-12345")
        await check(bob, "empty inbox")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "我的快递到哪了 2024111100012301")
        await expect(chat.locator(".msg.from-bot .body").last).to_contain_text("后4位")
        await ui.customer_says(chat, "尾号1234")
        await expect(chat.locator(".msg.from-bot .body").last).to_contain_text("已发货")
        await ui.customer_says(chat, "我要退款")
        await expect(bob.locator("#convs .conv")).to_have_count(1, timeout=15000)
        await expect(bob.locator("#orders .order")).to_have_count(1)
        await bob.locator("#reply-text").fill("您好")
        await bob.locator("#reply-text").press("Enter")
        await expect(bob.locator("#messages .msg.from-agent")).to_have_count(1)
        for lang in ("en", "zh"):
            await check(bob, f"inbox with a chat ({lang})")
            for opener, dialog in (("#transfer-btn", "#transfer-dlg"), ("#close-btn", "#close-dlg"),
                                   ("#discount-btn", "#discount-dlg"), ("#faq-btn", "#faq-dlg"),
                                   ("#help-btn", "#help-dlg")):
                await bob.locator(opener).click()
                await expect(bob.locator(dialog)).to_be_visible()
                await check(bob, f"{dialog} ({lang})", include=dialog)
                await bob.keyboard.press("Escape")
                await expect(bob.locator(dialog)).to_be_hidden()
            # Bulk close's confirmation, over one ticked row.
            await bob.locator("#convs input.pick").check()
            await bob.locator("#bulk-close-btn").click()
            await expect(bob.locator("#bulk-close-dlg")).to_be_visible()
            await check(bob, f"#bulk-close-dlg ({lang})", include="#bulk-close-dlg")
            await bob.keyboard.press("Escape")
            await expect(bob.locator("#bulk-close-dlg")).to_be_hidden()
            await bob.locator("#convs input.pick").uncheck()
            await bob.locator("#reply-text").fill("/")
            await expect(bob.locator("#qr-list")).to_be_visible()
            await check(bob, f"quick replies ({lang})")
            await bob.locator("#reply-text").fill("")
            await bob.locator("#lang").click()
        # The customer's widget on a phone, in Chinese (the chat page) and in English.
        await check(chat, "widget on a phone (zh)")


async def test_every_tab_for_an_admin_in_both_languages(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path), redis_url) as (_rt, base):
        _, ada = await ui.console(browser, base, ADMIN_TOKEN)
        # One closed conversation for the records reader, one open in the inbox.
        _, earlier = await ui.chat(browser, base)
        await ui.customer_says(earlier, "上周的问题")
        await expect(ada.locator("#convs .conv")).to_have_count(1)
        closed_id = await ada.locator("#convs .conv").get_attribute("data-id")
        await ada.locator("#close-btn").click()
        await ada.locator("#close-dlg button[type=submit]").click()
        await expect(ada.locator("#convs .conv")).to_have_count(0)
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "你好")
        await expect(ada.locator("#convs .conv")).to_have_count(1)
        for lang, tabs in (("en", TABS), ("zh", TABS_ZH)):
            for name in tabs:
                await ada.get_by_role("tab", name=name, exact=True).click()
                await expect(ada.get_by_role("tab", name=name, exact=True)).to_have_attribute("aria-selected", "true")
                await ada.wait_for_timeout(400)  # the tab's data is drawn
                await check(ada, f"{name} tab ({lang})")
                if name in ("Rules", "路由规则"):  # and the rule builder's form
                    await ada.locator("#rb-show-form").click()
                    await expect(ada.locator("#rules-builder")).to_be_visible()
                    await ada.wait_for_timeout(400)
                    await check(ada, f"rule builder ({lang})")
                    await ada.locator("#rb-show-yaml").click()
                    await expect(ada.locator("#rules-builder")).to_be_hidden()
                if name in ("Records", "会话记录"):  # and a conversation open in the reader
                    await ada.locator(f"#rec-list button[data-id='{closed_id}']").click()
                    await expect(ada.locator("#rec-current")).to_be_visible()
                    await expect(ada.locator("#rec-messages .msg").first).to_be_visible()
                    await check(ada, f"records reader ({lang})")
            await ada.get_by_role("tab", name="Inbox" if lang == "en" else "会话", exact=True).click()
            await ada.locator("#lang").click()


async def test_widget_on_a_phone_in_english(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(admin_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        ctx = await browser.new_context(locale="en-US", viewport={"width": 390, "height": 780})
        page = await ctx.new_page()
        await page.goto(f"{base}/chat")
        await expect(page.locator("#conn")).to_be_visible()
        await check(page, "widget, empty (en)")
        await page.locator("#text").fill("hello")
        await page.locator("#text").press("Enter")
        await expect(page.locator(".msg.from-customer")).to_have_count(1)
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "Hello, how can I help?", "client_msg_id": msg_id()})
        await expect(page.locator(".msg.from-agent")).to_have_count(1)
        await check(page, "widget with a conversation (en)")
        await alice.send({"type": "close", "conversation_id": cid})
        await expect(page.locator("#csat")).to_be_visible()
        await check(page, "widget's rating form (en)")
        await alice.close()


async def test_the_check_itself_fails_on_an_unnamed_button_and_low_contrast(browser: Browser) -> None:
    page = await browser.new_page()
    await page.set_content('<html lang="en"><title>t</title><main><button></button>'
                           '<p style="color:#bbb;background:#fff">faint</p></main></html>')
    try:
        await assert_no_serious_violations(page, where="a bad page")
    except AssertionError as err:
        assert "button-name" in str(err) and "color-contrast" in str(err), err
    else:
        raise AssertionError("axe passed a page with an unnamed button")
    await page.close()


async def test_a_supervisor_overseeing_a_live_chat(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    """The supervise panel in the records reader (a supervisor in an agent's open chat), both languages."""
    async with running(admin_settings(tmp_path), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "我要投诉")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "您好，请讲", "client_msg_id": msg_id()})
        _, sue = await ui.console(browser, base, "sue-token-12345")
        await sue.goto(f"{base}/console#records/{cid}")
        panel = sue.get_by_role("region", name="Supervise this conversation")
        await expect(panel).to_be_visible()
        await expect(sue.locator("#rec-messages .msg.from-agent")).to_have_count(1)
        await check(sue, "supervise panel (en)")
        await sue.locator("#lang").click()
        await expect(sue.locator("#lang")).to_have_text("English")
        await check(sue, "supervise panel (zh)")
        await alice.close()
