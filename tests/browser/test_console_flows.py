"""Console flows in real Chromium: answer and close (flow 1), transfer (flow 2), reconnect."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers import console as ui
from helpers.app import BASIC, basic_settings, running
from playwright.async_api import Browser, expect

from router.settings import parse_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


async def test_flow1_customer_writes_agent_answers_and_closes(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (rt, base):
        _, agent = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "你好，这件大衣有M码吗？")

        row = agent.locator("#convs .conv")
        await expect(row).to_have_count(1)
        await expect(row.locator(".chan")).to_have_text("webchat")
        await expect(row.locator(".preview")).to_have_text("你好，这件大衣有M码吗？")
        await expect(agent.locator("#messages .msg.from-customer .body")).to_have_text("你好，这件大衣有M码吗？")
        await expect(agent).to_have_title("kefu console")  # the open conversation is not "unread"

        # Enter sends; Shift+Enter keeps writing on a new line.
        box = agent.locator("#reply-text")
        await box.fill("有的")
        await box.press("Shift+Enter")
        await box.type("亲～")
        await expect(box).to_have_value("有的\n亲～")
        await box.press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("有的\n亲～")
        await expect(agent.locator("#messages .msg.from-agent .delivery")).to_have_text("sent")
        await expect(box).to_have_value("")

        # Close with a resolution tag, from the keyboard.
        await agent.keyboard.press("Alt+e")
        await expect(agent.locator("#close-dlg")).to_be_visible()
        await agent.locator("#close-resolution").select_option("presale_question")
        await agent.get_by_role("button", name="Close", exact=True).last.click()
        await expect(agent.locator("#convs .conv")).to_have_count(0)
        await expect(agent.locator("#empty")).to_be_visible()
        [conv] = (await rt.store.conversations(await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1)))
        assert conv["state"] == "closed" and conv["resolution"] == "presale_question"
        assert ui.DIALOG_FREE == []


async def test_flow2_transfer_moves_the_chat_to_the_other_console(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base):
        _, alice = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "想换个尺码")
        await expect(alice.locator("#convs .conv")).to_have_count(1)
        _, bob = await ui.console(browser, base, "bob-token-12345")
        await expect(bob.locator("#convs .conv")).to_have_count(0)

        await alice.get_by_role("button", name="Transfer", exact=True).click()
        await alice.get_by_label("To agent").select_option("bob")
        await alice.get_by_label("Note for the next agent").fill("客户要换L码，订单已付款")
        await alice.locator("#transfer-form button[type=submit]").click()

        await expect(bob.locator("#convs .conv")).to_have_count(1)
        await expect(bob.locator("#messages .msg.from-customer .body")).to_have_text("想换个尺码")
        await expect(alice.locator("#convs .conv")).to_have_count(0)
        # Bob answers; the customer sees it.
        await bob.locator("#reply-text").fill("好的，帮您换L码")
        await bob.locator("#reply-text").press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("好的，帮您换L码")


async def test_console_reconnects_after_a_drop_without_losing_or_doubling(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (rt, base):
        _, agent = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "第一条")
        await expect(agent.locator("#messages .msg.from-customer")).to_have_count(1)

        # The server drops every socket; the console shows it is offline, then comes back.
        for ws in list(rt.sockets):
            await ws.close()
        await expect(agent.locator("#conn")).not_to_have_text("online", timeout=5000)
        await expect(chat.locator("#conn")).to_have_text("已连接", timeout=15000)
        await ui.customer_says(chat, "第二条")
        await expect(agent.locator("#conn")).to_have_text("online", timeout=15000)
        await expect(agent.locator("#messages .msg.from-customer .body")).to_have_text(["第一条", "第二条"])
        await agent.locator("#reply-text").fill("收到")
        await agent.locator("#reply-text").press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text("收到")
        await asyncio.sleep(0.5)  # a second copy, if any, would have arrived by now
        await expect(agent.locator("#messages .msg.from-agent")).to_have_count(1)
        await expect(agent.locator("#convs .conv")).to_have_count(1)


ADMIN = """
  - id: ada
    name: Ada
    token: ada-admin-token-1
    role: admin
    pools: [aftersale]
"""

RULES = """timezone: Asia/Shanghai
default:
  pool: presale
rules:
  - name: refunds
    description: refunds go to after-sale
    wen: {intent: refund}
    then: {pool: aftersale}
"""


async def test_flow5_admin_fixes_a_rule_at_its_line_activates_and_rolls_back(redis_url: str, browser: Browser) -> None:
    settings = parse_settings(BASIC.format(cap=5).replace("worker:", ADMIN.strip("\n") + "\nworker:"), "<test>")
    async with running(settings, redis_url) as (rt, base):
        before = rt.rules.current.version
        _, admin = await ui.console(browser, base, "ada-admin-token-1", width=1280)
        await admin.keyboard.press("Alt+3")
        src = admin.locator("#rules-src")
        await expect(src).not_to_have_value("")
        original = await src.input_value()

        await src.fill(RULES)
        await admin.get_by_role("button", name="Validate").click()
        problem = admin.locator("#rules-problems .problem")
        await expect(problem).to_have_count(1)
        await expect(problem).to_contain_text("7:5")
        await expect(problem).to_contain_text("did you mean 'when'")
        await expect(admin.locator("#rules-gutter .bad")).to_have_text("7")
        await admin.get_by_label("Test message").fill("我要退款")
        DOCS.mkdir(exist_ok=True)
        await admin.screenshot(path=str(DOCS / "rules-editor.png"))
        # Activating the broken text is refused the same way, and nothing changes.
        await admin.get_by_role("button", name="Activate").click()
        await expect(problem).to_contain_text("7:5")
        assert rt.rules.current.version == before

        # Jump to the line, fix it, explain a test message, activate.
        await problem.get_by_role("button").click()
        await src.fill(RULES.replace("wen:", "when:"))
        await admin.get_by_role("button", name="Explain").click()
        await expect(admin.locator("#rules-result")).to_contain_text("aftersale")
        await admin.get_by_role("button", name="Validate").click()
        await expect(admin.locator("#rules-status")).to_have_text("No problems.")
        await expect(admin.locator("#rules-gutter .bad")).to_have_count(0)
        await admin.get_by_role("button", name="Activate").click()
        await expect(admin.locator("#rules-status")).to_contain_text("Activated version")
        activated = rt.rules.current.version
        assert activated != before
        await expect(admin.locator("#rules-version")).to_contain_text(activated)

        # Roll back to the first version from the history, seeing its diff first.
        versions = admin.locator("#rules-versions li")
        await expect(versions).to_have_count(2)
        await versions.last.get_by_role("button").click()
        await expect(admin.locator("#rules-diff")).to_be_visible()
        await admin.get_by_role("button", name="Roll back to this version").click()
        await expect(admin.locator("#rules-status")).to_contain_text("Rolled back")
        await expect(src).to_have_value(original)
        await expect(versions).to_have_count(3)  # a rollback is a new version; history only grows
        rolled = rt.rules.current.version
        assert rolled not in (before, activated)
        assert (await rt.rule_sync.versions.get(rolled) or {})["source"] == original
        assert ui.DIALOG_FREE == []
