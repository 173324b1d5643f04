"""Refusals in the person's language (issue 19, item 8): the server's `detail` is English, and a
Chinese agent or shopper must not read it. In the Chinese console an admin meets three real
refusals (an account id that exists, a password too easy to guess, a pool that does not exist)
and an agent a fourth (a transfer of a conversation closed meanwhile); each toast is worded from
its code, with no English word in it. In a Chinese widget on a phone a message over the length
limit fails with the limit, in Chinese, under it. axe is clean on each."""

from __future__ import annotations

import re

import aiohttp
from helpers import console as ui
from helpers.accounts import ADMIN_PASSWORD, ADMIN_TOKEN, shop_settings
from helpers.app import BASIC, basic_settings, running
from helpers.axe import assert_no_serious_violations
from playwright.async_api import Browser, Locator, Page, expect

from router.config.settings import parse_settings

ENGLISH = re.compile(r"[A-Za-z]{2,}")
LIMIT = 60


async def chinese_console(browser: Browser, base: str) -> Page:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    await page.goto(f"{base}/console")
    await page.locator("#token").fill(ADMIN_TOKEN)
    await page.locator("#signin button[type=submit]").click()
    await expect(page.locator("#conn")).to_have_text("在线")
    await page.locator("[role=tab][data-tab=team]").click()
    return page


async def error_toast(page: Page, words: str) -> Locator:
    toast = page.locator("#toasts .toast.error").last
    await expect(toast).to_have_text(words)
    text = await toast.inner_text()
    assert ENGLISH.findall(text) == [], text
    return toast


async def add_agent(page: Page, aid: str, pools: str) -> None:
    form = page.locator("#team-add")
    await form.locator("[name=id]").fill(aid)
    await form.locator("[name=name]").fill("新同事")
    await form.locator("[name=pools]").fill(pools)
    await form.locator("button[type=submit]").click()


async def test_three_console_refusals_read_in_chinese(redis_url: str, browser: Browser) -> None:
    async with running(shop_settings(), redis_url) as (rt, base):
        page = await chinese_console(browser, base)

        # A duplicate account id: 409 exists, "agent alice already exists" in English.
        await add_agent(page, "alice", "presale")
        await error_toast(page, "已经存在")
        # A password the server finds too easy: weak_password, rule common.
        form = page.locator("#account-password")
        await form.locator("[name=old]").fill(ADMIN_PASSWORD)
        await form.locator("[name=new]").fill("aaaaaaaaaaaa")
        await form.locator("button[type=submit]").click()
        await error_toast(page, "这个密码太容易被猜到")
        # A pool that does not exist: bad_request naming the pool; nothing was added.
        await add_agent(page, "dora", "x1")
        await error_toast(page, "没有客服组 x1")
        await add_agent(page, "dora", "presale, x1, y2")
        await error_toast(page, "没有客服组 x1, y2")
        assert await rt.store.agent("dora") is None
        await assert_no_serious_violations(page, where="Chinese console with refusal toasts")

        # The English console keeps the server's own words, which name the exact problem.
        await page.evaluate("localStorage.setItem('kefu.lang', 'en')")
        await page.reload()
        await expect(page.locator("#conn")).to_have_text("online")
        await page.locator("[role=tab][data-tab=team]").click()
        await add_agent(page, "alice", "presale")
        await expect(page.locator("#toasts .toast.error").last).to_have_text("agent alice already exists")


async def test_a_message_over_the_limit_fails_with_a_chinese_reason_on_a_phone(
        redis_url: str, browser: Browser) -> None:
    settings = parse_settings(BASIC.format(cap=5) + f"limits:\n  max_text_chars: {LIMIT}\n", "<test>")
    async with running(settings, redis_url) as (_rt, base):
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 780})
        chat = await ctx.new_page()
        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await chat.locator("#text").fill("太长了" * 40)
        await chat.locator("#text").press("Enter")
        failed = chat.locator(".msg.failed")
        await expect(failed).to_have_count(1)
        reason = await failed.inner_text()
        assert f"内容太长：最多 {LIMIT} 个字" in reason, reason
        assert ENGLISH.findall(reason) == [], reason
        # A reload shows the same failed message with the same Chinese reason (kept with the history).
        await chat.reload()
        await expect(chat.locator(".msg.failed")).to_contain_text(f"最多 {LIMIT} 个字")
        await assert_no_serious_violations(chat, where="Chinese widget with a failed message")


async def test_a_transfer_of_a_conversation_closed_meanwhile_is_refused_in_chinese(
        redis_url: str, browser: Browser) -> None:
    """The agent socket's error frame: the transfer dialog is open when the conversation is closed
    elsewhere (a bulk close through the API); the transfer is refused, and the toast is Chinese."""
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        _, agent = await ui.console(browser, base, "alice-token-1234")
        await agent.locator("#lang").click()  # to Chinese
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "我要转给别人")
        conv = agent.locator("#convs .conv")
        await expect(conv).to_have_count(1)
        cid = await conv.first.get_attribute("data-id")
        await agent.locator("#transfer-btn").click()
        await agent.locator("#transfer-pool").select_option("presale")
        async with http.post(f"{base}/api/v1/conversations/{cid}/close", json={},
                             headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200, await r.text()
        await agent.locator("#transfer-dlg button[type=submit]").click()
        # conversation_is_closed, "cannot transfer: conversation is closed" in English.
        await error_toast(agent, "会话已结束")
        await assert_no_serious_violations(agent, where="Chinese console with a refused transfer")
