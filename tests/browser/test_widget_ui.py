"""The widget in Chromium: languages, typing, the agent's name, rating by keyboard, off hours, and
the embeddable snippet on a shop's own page."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from helpers.app import BASIC, basic_settings, running
from helpers.bot_app import bot_settings
from helpers.clients import agent
from helpers.shots import screenshot_path
from playwright.async_api import Browser, Page, expect

from router.config.settings import parse_settings

SUE = {"Authorization": "Bearer sue-token-12345"}
HOURS = """  hours:
    timezone: Asia/Shanghai
    days: mon-fri
    hours: "09:00-18:00"
"""


async def write_and_reload(chat: Page, base: str, text: str, before: Awaitable[None]) -> None:
    """Open the chat, send `text`, wait for `before` to hold, then reload and reconnect."""
    await chat.goto(f"{base}/chat")
    await expect(chat.locator("#conn")).to_have_text("Connected")
    await chat.locator("#text").fill(text)
    await chat.locator("#text").press("Enter")
    await before
    await chat.reload()
    await expect(chat.locator("#conn")).to_have_text("Connected")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


async def test_english_typing_agent_name_and_rating_by_keyboard(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        ctx = await browser.new_context(locale="en-US", viewport={"width": 900, "height": 760})
        chat = await ctx.new_page()
        alice = await agent(http, base, "alice-token-1234")
        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("Connected")
        await expect(chat.locator("#title")).to_have_text("Chat with us")
        await expect(chat.locator("#send")).to_have_text("Send")
        assert await chat.evaluate("document.documentElement.lang") == "en"

        await chat.locator("#text").fill("Do you have size M?")
        await chat.locator("#text").press("Enter")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await expect(chat.locator("#status")).to_have_text("Alice is helping you")
        await expect(chat.locator(".notice")).to_have_text(["Alice joined the chat"])

        await chat.locator("#text").press_sequentially("and in blue")
        await alice.expect(lambda f: f["type"] == "typing" and f["conversation_id"] == cid)
        await alice.send({"type": "typing", "conversation_id": cid})
        await expect(chat.locator("#typing")).to_have_text("Alice is typing…")
        await alice.send({"type": "reply", "conversation_id": cid, "text": "Yes, in blue too.", "client_msg_id": "r1"})
        await expect(chat.locator(".msg.from-agent .body")).to_have_text(["Yes, in blue too."])
        await expect(chat.locator("#typing")).to_be_hidden()

        await alice.send({"type": "close", "conversation_id": cid})
        # Wait for the panel itself: the title's text is there from page load, hidden, and the
        # `closed` frame that shows the panel also resets its form, so keys pressed before it
        # arrives are lost (or focus a hidden radio).
        await expect(chat.locator("#csat")).to_be_visible()
        await expect(chat.locator("#csat-title")).to_have_text("How did we do?")
        # Keyboard only: into the star group, arrows to four stars, Tab to the comment, then send.
        await chat.locator("#star-1").focus()
        await chat.keyboard.press("Space")
        for _ in range(3):
            await chat.keyboard.press("ArrowRight")
        await expect(chat.locator("#star-4")).to_be_checked()
        await expect(chat.locator("#stars label.lit")).to_have_count(4)
        await chat.keyboard.press("Tab")
        await expect(chat.locator("#csat-comment")).to_be_focused()
        await chat.keyboard.type("Quick answer")
        await chat.keyboard.press("Tab")
        await chat.keyboard.press("Enter")
        await expect(chat.locator("#csat")).to_be_hidden()
        async with http.get(f"{base}/api/v1/reports/csat", headers=SUE) as r:
            body = await r.json()
        assert body["agents"] == [{"agent": "alice", "count": 1, "avg": 4.0}]
        assert body["conversations"][0]["comment"] == "Quick answer"

        # After a reload: the same history and notices once each, and no second question.
        await chat.reload()
        await expect(chat.locator("#conn")).to_have_text("Connected")
        await expect(chat.locator(".notice")).to_have_text(
            ["Alice joined the chat", "This conversation is closed. Thank you!", "Thank you for your rating!"])
        await expect(chat.locator("#csat")).to_be_hidden()
        await alice.close()
        await ctx.close()


async def test_chinese_off_hours_form_then_rating_screenshot(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path, HOURS), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.bot.clock = lambda: at("2024-11-20T23:30:00")  # a Wednesday night: the bot says off hours
        ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 780})
        chat = await ctx.new_page()
        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("已连接")
        await expect(chat.locator("#send")).to_have_text("发送")
        assert await chat.evaluate("document.documentElement.lang") == "zh-CN"

        await chat.locator("#text").fill("在吗，我想问下衣服的事")
        await chat.locator("#text").press("Enter")
        await expect(chat.locator("#offhours-title")).to_have_text("现在是非工作时间")
        await expect(chat.locator("#offhours-back")).to_contain_text("09:00")
        await expect(chat.locator(".msg.from-bot .body")).to_contain_text(["明天 09:00"])
        await expect(chat.locator("#offhours-text")).to_have_text("")  # the bot's message says it already
        await chat.get_by_role("button", name="提交留言").click()
        await expect(chat.locator("#lm-error")).to_have_text("请填写您的称呼")
        await chat.get_by_label("您的称呼").fill("王女士")
        await chat.get_by_label("联系方式（手机或邮箱）").fill("138 0000 0000")
        await chat.get_by_label("留言内容").fill("明天能发货吗")
        await chat.get_by_role("button", name="提交留言").click()
        await expect(chat.locator("#offhours")).to_be_hidden()
        await expect(chat.locator(".msg.from-customer:not(.pending) .body")).to_have_text(
            ["在吗，我想问下衣服的事", "[留言]\n称呼：王女士\n联系方式：138 0000 0000\n\n明天能发货吗"])

        # The next shift signs in and gets it; then a normal exchange and the rating.
        alice = await agent(http, base, "alice-token-1234")
        cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
        await expect(chat.locator("#status")).to_have_text("客服 Alice 为您服务")
        await alice.send({"type": "reply", "conversation_id": cid, "text": "王女士您好，明天上午发出～", "client_msg_id": "r1"})
        await expect(chat.locator(".msg.from-agent .body")).to_have_text(["王女士您好，明天上午发出～"])
        await alice.send({"type": "close", "conversation_id": cid})
        await expect(chat.locator("#csat")).to_be_visible()  # the title has its text while hidden too
        await expect(chat.locator("#csat-title")).to_have_text("请为本次服务打分")
        await chat.locator("label[for=star-5]").click()
        await chat.get_by_label("还有什么想告诉我们的吗？（选填）").fill("很贴心")
        await chat.screenshot(path=screenshot_path("chat.png"))
        await chat.get_by_role("button", name="提交评价").click()
        await expect(chat.locator("#csat")).to_be_hidden()
        async with http.get(f"{base}/api/v1/reports/csat", headers=SUE) as r:
            assert (await r.json())["overall"] == {"count": 1, "avg": 5.0}
        await alice.close()
        await ctx.close()


async def _shop(page_html: str) -> tuple[web.AppRunner, str]:
    """A shop's own site on another origin (another port), with no policy of its own."""
    app = web.Application()

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=page_html, content_type="text/html")

    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]


async def test_embedded_on_a_shop_page(redis_url: str, browser: Browser) -> None:
    runner, shop = await _shop("<!doctype html><title>shop</title><h1>示例小店</h1><p id=slot></p>")
    try:
        settings = parse_settings(BASIC.format(cap=5) + f"channels:\n  webchat:\n    allowed_origins: [{shop}]\n",
                                  "<test>")
        async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
            alice = await agent(http, base, "alice-token-1234")
            ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 760})
            page = await ctx.new_page()
            await page.goto(shop)
            await page.evaluate(
                f"""() => {{ const s = document.createElement('script'); s.src = '{base}/static/widget.js';
                s.dataset.title = '示例小店客服'; document.body.append(s); }}""")
            button = page.get_by_role("button", name="示例小店客服")
            await button.click()
            await expect(button).to_have_attribute("aria-expanded", "true")
            frame = page.frame_locator("iframe[title='示例小店客服']")
            await expect(frame.locator("#title")).to_have_text("示例小店客服")
            await expect(frame.locator("#conn")).to_have_text("已连接")
            await expect(frame.locator("#text")).to_be_focused()
            await frame.locator("#text").fill("从店铺页面发来的")
            await frame.locator("#text").press("Enter")
            assigned = await alice.expect(lambda f: f["type"] == "assigned")
            assert [m["text"] for m in assigned["messages"]] == ["从店铺页面发来的"]
            await frame.get_by_role("button", name="收起聊天窗口").click()
            await expect(page.locator("iframe")).to_be_hidden()
            await expect(button).to_be_focused()
            # A reply while minimised: the button says so.
            cid = assigned["conversation"]["id"]
            await alice.send({"type": "reply", "conversation_id": cid, "text": "在的", "client_msg_id": "r1"})
            await expect(button).to_have_accessible_name("示例小店客服, 有新消息")
            await button.click()
            await expect(frame.locator(".msg.from-agent .body")).to_have_text(["在的"])
            await expect(button).to_have_accessible_name("示例小店客服")
            await alice.close()
            await ctx.close()
    finally:
        await runner.cleanup()


async def test_a_refused_message_is_marked_and_not_resent(redis_url: str, browser: Browser) -> None:
    settings = parse_settings(BASIC.format(cap=5) + "limits:\n  max_text_chars: 10\n", "<test>")
    async with running(settings, redis_url) as (_rt, base):
        ctx = await browser.new_context(locale="en-US")
        chat = await ctx.new_page()
        frames: list[str] = []
        chat.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(str(payload))))
        await write_and_reload(chat, base, "far more than ten characters",
                               expect(chat.locator(".msg.failed .why")).to_contain_text("longer than 10 characters"))
        await expect(chat.locator(".msg.failed")).to_have_count(1)
        assert sum('"type": "message"' in f or '"type":"message"' in f for f in frames) == 1
        await ctx.close()


async def test_a_session_the_server_refuses_is_replaced(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base):
        ctx = await browser.new_context(locale="en-US")
        # A token signed with another secret, as after the shop changed channels.webchat.secret.
        await ctx.add_init_script(
            "if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
            " localStorage.setItem('kefu.chat.v1', JSON.stringify({session: 'v1.vstale.9999999999.bad'})); }")
        chat = await ctx.new_page()
        await chat.goto(f"{base}/chat")
        await expect(chat.locator("#conn")).to_have_text("Connected", timeout=20_000)
        session = await chat.evaluate("JSON.parse(localStorage.getItem('kefu.chat.v1')).session")
        assert session.split(".")[1] != "vstale"
        await ctx.close()


async def test_a_reloaded_page_still_shows_its_place_in_line(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(cap=0), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")  # online with no room: the chat waits
        ctx = await browser.new_context(locale="en-US")
        chat = await ctx.new_page()
        # Queue frames are not replayed: after the reload the place comes from the snapshot.
        nobody = "No agent is online right now. Leave us a message and we will answer as soon as someone is in"
        await write_and_reload(chat, base, "Is this in stock?", expect(chat.locator("#status")).to_have_text(nobody))
        await expect(chat.locator("#status")).to_have_text(nobody)
        await alice.close()
        await ctx.close()
