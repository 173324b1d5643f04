"""The widget as a customer on a phone meets it (issue 19): no off-hours notice or form once an agent
has the chat, "back at" in the shop's zone and in words, a queue line that does not contradict
itself, forms that confirm, and bubbles that say who wrote them and when."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from helpers.app import basic_settings, running
from helpers.bot_app import bot_settings
from helpers.clients import agent
from playwright.async_api import Browser, Page, expect

HOURS = """  hours:
    timezone: Asia/Shanghai
    days: mon-fri
    hours: "09:00-18:00"
"""
HH_MM = r"\d\d:\d\d"


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


async def phone(browser: Browser, base: str, timezone: str = "Asia/Shanghai") -> Page:
    ctx = await browser.new_context(locale="zh-CN", timezone_id=timezone, viewport={"width": 390, "height": 780})
    page = await ctx.new_page()
    await page.goto(f"{base}/chat")
    await expect(page.locator("#conn")).to_have_text("已连接")
    return page


async def say(page: Page, text: str) -> None:
    await page.locator("#text").fill(text)
    await page.locator("#text").press("Enter")


async def test_an_agent_present_after_hours_means_no_off_hours_notice_or_form(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    """Item 1 and item 13 (widget): Alice is in late; the customer asks for a person at night."""
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: at("2024-11-20T23:30:00")  # a Wednesday night
        alice = await agent(http, base, "alice-token-1234")
        chat = await phone(browser, base)
        await say(chat, "转人工")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await expect(chat.locator("#status")).to_have_text("客服 Alice 为您服务")
        await expect(chat.locator(".msg.from-bot .body")).to_have_text(["好的，正在为您转接人工客服，请稍候。"])
        await chat.wait_for_timeout(600)  # any off_hours frame would have landed by now
        await expect(chat.locator("#offhours")).to_be_hidden()
        assert "非工作时间" not in await chat.locator("#log").inner_text()
        assert "09:00" not in await chat.locator("#log").inner_text()

        # Who said what: every bubble has its sender and time.
        await alice.send({"type": "reply", "conversation_id": cid, "text": "您好，我是 Alice", "client_msg_id": "r1"})
        await expect(chat.locator(".msg.from-agent .sender")).to_have_text([re.compile(rf"^客服 Alice · {HH_MM}$")])
        await expect(chat.locator(".msg.from-bot .sender")).to_have_text([re.compile(rf"^智能助手 · {HH_MM}$")])
        await expect(chat.locator(".msg.from-customer .sender").first).to_have_text(re.compile(rf"^我 · {HH_MM}$"))

        # Forms confirm: the rating asks for a star, forgets that once one is picked, and thanks.
        await alice.send({"type": "close", "conversation_id": cid})
        await expect(chat.locator("#csat")).to_be_visible()
        await chat.get_by_role("button", name="提交评价").click()
        await expect(chat.locator("#csat-error")).to_have_text("请先选择星级")
        await chat.locator("label[for=star-4]").click()
        await expect(chat.locator("#csat-error")).to_have_text("")
        await chat.get_by_role("button", name="提交评价").click()
        await expect(chat.locator("#csat")).to_be_hidden()
        await expect(chat.locator(".notice").last).to_have_text("感谢您的评价！")
        await alice.close()


async def test_off_hours_back_in_the_shops_zone_in_words_and_the_form_confirms(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    """Items 5 and 6: the browser is in New York; the shop is in Shanghai and opens 09:00 tomorrow."""
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base):
        night = at("2024-11-20T23:30:00")
        rt.bot.clock = lambda: night
        chat = await phone(browser, base, timezone="America/New_York")
        # The page's clock is the shop's night too, so "tomorrow" means the same day for both.
        await chat.clock.set_fixed_time(datetime.fromtimestamp(night, ZoneInfo("UTC")))
        await say(chat, "在吗，我想问下衣服的事")
        await expect(chat.locator("#offhours-title")).to_have_text("现在是非工作时间")
        await expect(chat.locator("#offhours-back")).to_have_text("我们将于 明天 09:00 回来")
        await chat.get_by_label("您的称呼").fill("王女士")
        await chat.get_by_label("联系方式（手机或邮箱）").fill("138 0000 0000")
        await chat.get_by_label("留言内容").fill("明天能发货吗")
        await chat.get_by_role("button", name="提交留言").click()
        await expect(chat.locator("#offhours")).to_be_hidden()
        await expect(chat.locator(".notice").last).to_have_text("留言已提交，客服上班后会尽快回复您")


async def test_a_form_shown_before_goes_away_when_an_agent_takes_the_chat(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    """Item 1: the off-hours form was shown; then someone signs in and takes the chat."""
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: at("2024-11-20T23:30:00")
        chat = await phone(browser, base)
        await say(chat, "转人工")
        await expect(chat.locator("#offhours")).to_be_visible()
        alice = await agent(http, base, "alice-token-1234")
        await alice.expect(lambda f: f["type"] == "assigned")
        await expect(chat.locator("#status")).to_have_text("客服 Alice 为您服务")
        await expect(chat.locator("#offhours")).to_be_hidden()
        await chat.reload()
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await expect(chat.locator("#offhours")).to_be_hidden()
        await alice.close()


async def test_in_hours_with_nobody_online_the_queue_offers_a_message(redis_url: str, browser: Browser) -> None:
    """Item 7: no "马上轮到您了" beside "nobody is online"; the form is offered instead."""
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        chat = await phone(browser, base)
        await say(chat, "有人吗")
        await expect(chat.locator("#status")).to_have_text("暂时没有客服在线，您可以先留言，客服上线后会尽快回复您")
        await expect(chat.locator("#offhours-title")).to_have_text("暂时没有客服在线")
        await expect(chat.locator("#offhours-back")).to_have_text("")
        alice = await agent(http, base, "alice-token-1234")
        await alice.expect(lambda f: f["type"] == "assigned")
        await expect(chat.locator("#offhours")).to_be_hidden()
        await alice.close()
