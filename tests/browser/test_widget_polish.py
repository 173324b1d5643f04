"""The widget's polish (issue 19), as a shopper on a phone meets it: the shop's welcome card in its
own colours, the 转人工 button, the emoji picker, the agent's name and initials on their bubbles,
已读 once the agent's console has shown a message, and away mode when nobody is online."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from helpers.app import BASIC, running
from helpers.axe import assert_no_serious_violations
from helpers.bot_app import bot_config
from helpers.clients import agent
from helpers.console import UNNAMED_CONTROLS, console, page_errors
from helpers.images import png
from helpers.shots import screenshot_path
from playwright.async_api import Browser, Page, expect

from router.config.settings import Settings, parse_settings

CONTRAST = """(el) => {
  const rgb = (s) => s.match(/\\d+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                       return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const st = getComputedStyle(el);
  const [a, b] = [lum(rgb(st.color)), lum(rgb(st.backgroundColor))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""
"""The WCAG contrast of an element's text on its own background."""


def welcome_settings(tmp: Path, colour: str = "#fde047", bot: bool = False) -> Settings:
    (tmp / "logo.png").write_bytes(png(96, 96))
    welcome = f"""
channels:
  webchat:
    welcome:
      name: 云裳女装
      logo: logo.png
      colour: "{colour}"
      greeting: {{zh: 您好，欢迎来到云裳！, en: Welcome to Yunshang!}}
"""
    text = (bot_config(tmp) if bot else BASIC.format(cap=5)) + welcome
    return parse_settings(text, "<test>", base_dir=str(tmp))


async def phone(browser: Browser, base: str, locale: str = "zh-CN") -> Page:
    ctx = await browser.new_context(locale=locale, viewport={"width": 390, "height": 780})
    page = await ctx.new_page()
    await page.goto(f"{base}/chat")
    await expect(page.locator("#conn")).to_have_text("已连接" if locale.startswith("zh") else "Connected")
    return page


async def say(page: Page, text: str) -> None:
    await page.locator("#text").fill(text)
    await page.locator("#text").press("Enter")


async def test_welcome_card_in_the_shops_colours_until_the_first_message(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(welcome_settings(tmp_path), redis_url) as (_rt, base):
        chat = await phone(browser, base)
        errors = page_errors(chat)
        card = chat.locator("#welcome")
        await expect(card).to_be_visible()
        await expect(card.get_by_role("heading")).to_have_text("云裳女装")
        await expect(chat.locator("#welcome-text")).to_have_text("您好，欢迎来到云裳！")
        logo = chat.get_by_role("img", name="云裳女装 标志")
        await expect(logo).to_be_visible()
        assert await logo.evaluate("(img) => img.complete && img.naturalWidth") == 96
        # A light yellow: the header and send button take it, with black text that passes AA.
        header = chat.locator("header")
        assert await header.evaluate("(h) => getComputedStyle(h).backgroundColor") == "rgb(253, 224, 71)"
        assert await header.evaluate("(h) => getComputedStyle(h).color") == "rgb(0, 0, 0)"
        assert await header.evaluate(CONTRAST) >= 4.5
        assert await chat.locator("#send").evaluate(CONTRAST) >= 4.5
        assert await chat.locator("#welcome .band").evaluate(CONTRAST) >= 4.5
        assert await chat.evaluate(UNNAMED_CONTROLS) == []
        await assert_no_serious_violations(chat, where="welcome card (zh)")

        await say(chat, "你好")
        await expect(chat.locator(".msg.from-customer")).to_have_count(1)
        await expect(card).to_be_hidden()
        await chat.reload()
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await expect(chat.locator(".msg.from-customer")).to_have_count(1)
        await expect(card).to_be_hidden()
        assert errors == []

        # English, and a dark colour: white text, the English greeting.
        en = await phone(browser, base, "en-US")
        await expect(en.locator("#welcome-text")).to_have_text("Welcome to Yunshang!")
        await expect(en.get_by_role("img", name="云裳女装 logo")).to_be_visible()


async def test_a_dark_colour_gets_white_text(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(welcome_settings(tmp_path, colour="#4c1d95"), redis_url) as (_rt, base):
        chat = await phone(browser, base)
        header = chat.locator("header")
        await expect(header).to_have_css("background-color", "rgb(76, 29, 149)")
        await expect(header).to_have_css("color", "rgb(255, 255, 255)")
        assert await header.evaluate(CONTRAST) >= 4.5
        assert await chat.locator("#send").evaluate(CONTRAST) >= 4.5


async def test_emoji_picker_by_keyboard_inserts_at_the_caret(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(welcome_settings(tmp_path), redis_url) as (_rt, base):
        chat = await phone(browser, base)
        text = chat.locator("#text")
        await text.fill("好的")
        await text.press("ArrowLeft")  # the caret between 好 and 的
        await text.press("Shift+Tab")
        button = chat.get_by_role("button", name="表情")
        await expect(button).to_be_focused()
        await expect(button).to_have_attribute("aria-expanded", "false")
        await chat.keyboard.press("Enter")
        pop = chat.get_by_role("dialog", name="表情")
        await expect(pop).to_be_visible()
        await expect(button).to_have_attribute("aria-expanded", "true")
        await expect(pop.get_by_role("button", name="😀")).to_be_focused()
        await chat.keyboard.press("ArrowRight")
        await chat.keyboard.press("ArrowDown")  # one row down: the 8 emoji of a row later
        await expect(pop.get_by_role("button", name="😅")).to_be_focused()
        await chat.keyboard.press("Tab")  # focus stays in the open picker
        await expect(pop.get_by_role("button", name="😅")).to_be_focused()
        await assert_no_serious_violations(chat, where="emoji picker open")
        await chat.keyboard.press("Enter")
        await expect(pop).to_be_hidden()
        await expect(text).to_be_focused()
        await expect(text).to_have_value("好😅的")
        # The caret is after the emoji: typing goes on from there.
        await chat.keyboard.type("呀")
        await expect(text).to_have_value("好😅呀的")

        # Escape closes it and gives focus back to the button.
        await button.click()
        await expect(pop).to_be_visible()
        await chat.keyboard.press("Escape")
        await expect(pop).to_be_hidden()
        await expect(button).to_be_focused()
        await expect(text).to_have_value("好😅呀的")
        await chat.keyboard.press("Shift+Tab")  # out of the composer again: nothing was trapped
        await expect(button).not_to_be_focused()


async def test_handoff_button_asks_for_a_person_and_says_what_happened(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(welcome_settings(tmp_path, bot=True), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        chat = await phone(browser, base)
        button = chat.locator("#handoff")
        await expect(button).to_have_text("转人工")
        await expect(button).to_be_enabled()
        await say(chat, "包邮吗")  # the bot answers; the chat is not with a person
        await expect(chat.locator(".msg.from-bot")).not_to_have_count(0)
        await expect(button).to_be_enabled()

        await button.click()
        await expect(chat.locator(".msg.from-customer .body").last).to_have_text("转人工")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await expect(chat.locator("#status")).to_have_text("客服 Alice 为您服务")
        await expect(button).to_have_text("人工客服服务中")
        await expect(button).to_be_disabled()

        # The agent's bubble: their initials beside their name, and the time.
        await alice.send({"type": "reply", "conversation_id": cid, "text": "您好，我是 Alice", "client_msg_id": "r1"})
        bubble = chat.locator(".msg.from-agent")
        await expect(bubble.locator(".sender")).to_have_text(re.compile(r"^客服 Alice · \d\d:\d\d$"))
        await expect(bubble.locator(".avatar")).to_have_text("A")
        assert await bubble.locator(".avatar").evaluate(CONTRAST) >= 4.5
        await assert_no_serious_violations(chat, where="with an agent, the 转人工 button disabled")
        await chat.screenshot(path=screenshot_path("chat-agent.png"))

        # Closed: a new conversation may ask again.
        await alice.send({"type": "close", "conversation_id": cid})
        await expect(chat.locator("#csat")).to_be_visible()
        await expect(button).to_have_text("转人工")
        await expect(button).to_be_enabled()
        await alice.close()


async def test_handoff_with_nobody_online_waits_in_line(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(welcome_settings(tmp_path, bot=True), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        chat = await phone(browser, base, "en-US")
        await chat.get_by_role("button", name="Talk to a person").click()
        button = chat.locator("#handoff")
        await expect(chat.locator(".msg.from-customer .body")).to_have_text(["I'd like to talk to a human"])
        await expect(button).to_be_disabled()
        await expect(chat.locator("#handoff")).to_have_text("Waiting for a person")
        alice = await agent(http, base, "alice-token-1234")
        await alice.expect(lambda f: f["type"] == "assigned")
        await expect(chat.locator("#handoff")).to_have_text("A person is helping you")
        await chat.reload()
        await expect(chat.locator("#handoff")).to_have_text("A person is helping you")
        await alice.close()


async def test_read_receipts_follow_what_the_agents_console_shows(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(welcome_settings(tmp_path), redis_url) as (_rt, base):
        _ctx, desk = await console(browser, base, "alice-token-1234")
        first = await phone(browser, base)
        await say(first, "甲：有M码吗")
        # The console opens the first chat by itself and shows it: the customer sees 已读.
        await expect(desk.locator("#messages .msg.from-customer .body")).to_have_text(["甲：有M码吗"])
        mine = first.locator(".msg.from-customer")
        await expect(mine.locator(".receipt")).to_have_text(["已读"])

        # A second customer's message waits unread while the agent looks at the first chat.
        second = await phone(browser, base)
        await say(second, "乙：什么时候发货")
        await expect(desk.locator(".conv", has_text="乙：什么时候发货")).to_be_visible()
        await second.wait_for_timeout(800)  # a read frame would have landed by now
        await expect(second.locator(".msg.from-customer .receipt")).to_have_count(0)
        await say(first, "甲：还有L码吗")  # shown in the open chat: read at once
        await expect(mine.locator(".receipt")).to_have_text(["已读", "已读"])

        await desk.locator(".conv", has_text="乙：什么时候发货").click()
        await expect(second.locator(".msg.from-customer .receipt")).to_have_text(["已读"])
        await say(first, "甲：在吗")  # the first chat is no longer in front of the agent
        await expect(mine).to_have_count(3)
        await first.wait_for_timeout(800)
        await expect(mine.locator(".receipt")).to_have_count(2)

        # Kept on the server: a reload (or another device) shows the same.
        await second.reload()
        await expect(second.locator("#conn")).to_have_text("已连接")
        await expect(second.locator(".msg.from-customer .receipt")).to_have_text(["已读"])
        # ...even when the page forgot it: the server's snapshot says it again.
        await second.evaluate("""() => { const s = JSON.parse(localStorage.getItem("kefu.chat.v1"));
                                         delete s.read; localStorage.setItem("kefu.chat.v1", JSON.stringify(s)); }""")
        await second.reload()
        await expect(second.locator("#conn")).to_have_text("已连接")
        await expect(second.locator(".msg.from-customer .receipt")).to_have_text(["已读"])
        assert await second.evaluate(UNNAMED_CONTROLS) == []
        await assert_no_serious_violations(second, where="read receipts")


async def test_away_mode_offers_the_form_before_any_message_and_the_console_gets_it(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    """Nobody is online (in hours: no hours are configured): no queue without end, the form at once."""
    async with running(welcome_settings(tmp_path), redis_url) as (_rt, base):
        chat = await phone(browser, base)
        await expect(chat.locator("#welcome")).to_be_visible()
        await expect(chat.locator("#offhours-title")).to_have_text("暂时没有客服在线")
        await expect(chat.locator(".msg")).to_have_count(0)
        await assert_no_serious_violations(chat, where="away mode with the welcome card")
        await chat.screenshot(path=screenshot_path("chat-welcome.png"))
        await chat.get_by_label("您的称呼").fill("王女士")
        await chat.get_by_label("联系方式（手机或邮箱）").fill("wang@example.com")
        await chat.get_by_label("留言内容").fill("想问下羽绒服什么时候补货")
        await chat.get_by_role("button", name="提交留言").click()
        await expect(chat.locator("#offhours")).to_be_hidden()
        await expect(chat.locator(".notice").last).to_have_text("留言已提交，客服上班后会尽快回复您")
        await chat.reload()
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await expect(chat.locator("#offhours")).to_be_hidden()  # asked once: the message is left

        # The next agent in finds it as a left message, with the contact details.
        _ctx, desk = await console(browser, base, "alice-token-1234")
        body = desk.locator("#messages .msg.from-customer .body")
        await expect(body).to_contain_text(["[留言]"])
        await expect(body).to_contain_text(["wang@example.com"])
        await expect(body).to_contain_text(["想问下羽绒服什么时候补货"])
        await expect(desk.locator(".conv").first).to_contain_text("王女士")

        # With someone online the page opens without the form (a process reuses its answer for 3 s).
        for _ in range(50):
            if (await (await desk.request.get(f"{base}/api/v1/webchat/widget")).json())["online"]:
                break
            await desk.wait_for_timeout(100)
        other = await phone(browser, base)
        await expect(other.locator("#welcome")).to_be_visible()
        await other.wait_for_timeout(500)
        await expect(other.locator("#offhours")).to_be_hidden()
