"""A supervisor in an agent's conversation, in real Chromium (issue 19): among a hundred open
chats, Sue opens Alice's from the records tab and reads it live; her whisper shows in Alice's
thread and never on the customer's page (not even after a reload); she joins, the customer's page
says so, and her answer reaches the customer under her own name and Alice's thread."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers import console as ui
from helpers.app import basic_settings, running
from helpers.axe import assert_no_serious_violations
from helpers.clients import agent, customer, msg_id
from playwright.async_api import Browser, expect

BACKGROUND = 100
"""Other open chats, so the views have more than one page and the live follow one of many."""
WHISPER = "这位客户上次投诉过，先安抚再查物流"


async def test_join_and_whisper(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(cap=100), redis_url) as (rt, base), \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        _, alice = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "我要投诉，快递三天没动了")
        await expect(alice.locator("#messages .msg.from-customer .body")).to_have_text("我要投诉，快递三天没动了")
        (cid,) = await rt.store.agents.conversation_ids("alice")

        # A hundred more come while Alice's chat is open (it stays the one her thread shows).
        bob = await agent(http, base, "bob-token-12345")
        others = []
        for n in range(BACKGROUND):
            cust, _ = await customer(http, base)
            others.append(cust)
            await cust.send({"type": "message", "text": f"背景客户{n}：在吗", "client_msg_id": msg_id()})
        for _ in range(600):  # least-loaded: Alice and Bob share them
            held = [*await rt.store.agents.conversation_ids("alice"), *await rt.store.agents.conversation_ids("bob")]
            if len(held) == BACKGROUND + 1:
                break
            await asyncio.sleep(0.2)
        assert len(held) == BACKGROUND + 1

        _, sue = await ui.console(browser, base, "sue-token-12345")
        errors = ui.page_errors(sue)
        await sue.get_by_role("tab", name="Records").click()
        await sue.get_by_role("button", name="Open", exact=True).click()
        await expect(sue.locator("#rec-list button.rec")).to_have_count(50)
        await sue.goto(f"{base}/console#records/{cid}")
        log = sue.locator("#rec-messages")
        await expect(log.locator(".msg.from-customer .body")).to_have_text(["我要投诉，快递三天没动了"])
        panel = sue.get_by_role("region", name="Supervise this conversation")
        await expect(panel).to_be_visible()

        # Live: the customer's next line appears in Sue's reader without a reload.
        await ui.customer_says(chat, "还有人吗？")
        await expect(log.locator(".msg.from-customer .body")).to_have_text(["我要投诉，快递三天没动了", "还有人吗？"])

        # A whisper: Sue's reader and Alice's thread show it, labelled; the customer never does.
        await panel.get_by_label("Message").fill(WHISPER)
        await panel.get_by_role("button", name="Whisper to Alice").click()
        await expect(log.locator(".msg.whisper .body")).to_have_text(WHISPER)
        whispered = alice.locator("#messages .msg.whisper")
        await expect(whispered.locator(".body")).to_have_text(WHISPER)
        await expect(whispered.locator(".whisper-label")).to_have_text("Whisper from Sue to Alice")
        await expect(panel.get_by_role("button", name="Send to customer")).to_be_disabled()

        # Join: the customer's page and Alice's thread say so; Sue answers under her own name.
        await panel.get_by_role("button", name="Join conversation").click()
        await expect(chat.locator("#log .notice").last).to_have_text("主管 Sue 加入了对话")
        await expect(alice.locator("#messages .msg.note .body").last).to_have_text("Sue joined the conversation")
        await panel.get_by_label("Message").fill("您好，我是主管，马上为您查物流")
        await panel.get_by_role("button", name="Send to customer").click()
        answer = chat.locator(".msg.from-agent")
        await expect(answer.locator(".body")).to_have_text("您好，我是主管，马上为您查物流")
        await expect(answer.locator(".who")).to_have_text("客服 Sue")
        await expect(alice.locator("#messages .msg.from-agent:not(.note) .body")).to_have_text("您好，我是主管，马上为您查物流")
        await expect(log.locator(".msg.from-agent:not(.note) .body")).to_have_text("您好，我是主管，马上为您查物流")
        assert await sue.evaluate(ui.UNNAMED_CONTROLS) == []
        await assert_no_serious_violations(sue, "#tab-records")
        await assert_no_serious_violations(alice, "#messages")

        # The customer's page never had the whisper, nor has it after a reload (its history).
        await asyncio.sleep(1)
        assert WHISPER not in await chat.locator("body").inner_text()
        await chat.reload()
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("您好，我是主管，马上为您查物流")
        assert WHISPER not in await chat.locator("body").inner_text()
        for cust in others:
            assert WHISPER not in str(cust.frames)

        # Bob, an agent, gets no supervising panel (and the server refuses him: 403).
        _, bobp = await ui.console(browser, base, "bob-token-12345")
        await bobp.goto(f"{base}/console#records/{cid}")
        await expect(bobp.locator("#rec-title")).to_have_text("This conversation is not yours: agents see only their own.")
        await expect(bobp.locator("#ov-panel")).to_have_count(0)
        assert errors == []
        await bob.close()
        for cust in others:
            await cust.close()


async def test_take_over_takes_when_pressed_across_a_refresh(redis_url: str, browser: Browser) -> None:
    """The floor view rebuilds its tables every 5 s; a rebuild between the press and the release of
    "Take over" used to drop the click (the button pressed was no longer in the page)."""
    async with running(basic_settings(), redis_url) as (_rt, base):
        _, sue = await ui.console(browser, base, "sue-token-12345", width=1400)
        _, alice = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "请主管来看看")
        await expect(alice.locator("#convs .conv")).to_have_count(1)
        await sue.keyboard.press("Alt+2")
        button = sue.locator("#sv-convs").get_by_role("button", name="Take over")
        await expect(button).to_have_count(1)
        await ui.press(sue, button)
        await sue.keyboard.press("Alt+2")  # showing the floor view again refreshes it at once
        await sue.wait_for_timeout(600)  # (its timer would, within 5 s)
        await sue.mouse.up()
        await expect(alice.locator("#convs .conv")).to_have_count(0)
        await sue.keyboard.press("Alt+1")
        await expect(sue.locator("#messages .msg.from-customer .body")).to_have_text("请主管来看看")
