"""Console flows in real Chromium: a quick reply, close and rating (flow 1), transfer (flow 2), the rule
editor (flow 5), reconnecting, and the side panels."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest
from helpers import console as ui
from helpers.app import BASIC, basic_settings, running
from helpers.clients import customer, msg_id
from helpers.shots import screenshot_path
from playwright.async_api import Browser, expect

from router.bot.orders import FileOrderService
from router.config.settings import parse_settings
from router.web import console_api

FLOW1_CONFIG = BASIC.format(cap=5) + """
routing:
  rules: rules.yaml
sla:
  profiles: sla.yaml
  timer_max_sleep_s: 0.1
"""
FLOW1_RULES = """
default: {pool: presale, sla: presale}
rules: []
"""
FLOW1_SLA = """
warn_at: 0.5
profiles:
  presale:
    first_response: 16s
"""


async def test_flow1_customer_writes_agent_answers_closes_and_gets_rated(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(FLOW1_RULES)
    (tmp_path / "sla.yaml").write_text(FLOW1_SLA)
    settings = parse_settings(FLOW1_CONFIG, "<test>", base_dir=str(tmp_path))
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        _, agent = await ui.console(browser, base, "alice-token-1234")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "你好，这件大衣有M码吗？")

        row = agent.locator("#convs .conv")
        await expect(row).to_have_count(1)
        await expect(row.locator(".chan")).to_have_text("webchat")
        await expect(row.locator(".preview")).to_have_text("你好，这件大衣有M码吗？")
        await expect(agent.locator("#messages .msg.from-customer .body")).to_have_text("你好，这件大衣有M码吗？")
        await expect(agent).to_have_title("kefu console")  # the open conversation is not "unread"
        # The first-response clock counts down, turns amber at the server's warning, then red.
        sla = row.locator(".sla")
        await expect(sla).to_have_class(re.compile(r"sla-green"))
        await expect(sla).to_have_text(re.compile(r"^SLA \d+s$"))
        # (16 s with a warning at half time: long enough to see green on a loaded machine)
        await expect(sla).to_have_class(re.compile(r"sla-amber"), timeout=15000)
        await expect(sla).to_have_class(re.compile(r"sla-red"), timeout=15000)
        await expect(sla).to_have_text(re.compile(r"^SLA breached"))

        # A quick reply: `/` and a word, Enter inserts it with the placeholders filled, Enter sends.
        box = agent.locator("#reply-text")
        await box.press_sequentially("/欢迎")
        await expect(agent.locator("#qr-list .qr").first).to_contain_text("欢迎语")
        await box.press("Enter")
        welcome = await box.input_value()
        assert "Alice" in welcome and "{" not in welcome
        await box.press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text([welcome])

        # Enter sends; Shift+Enter keeps writing on a new line.
        await box.fill("有的")
        await box.press("Shift+Enter")
        await box.type("亲～")
        await expect(box).to_have_value("有的\n亲～")
        await box.press("Enter")
        await expect(chat.locator(".msg.from-agent .body")).to_have_text([welcome, "有的\n亲～"])
        await expect(agent.locator("#messages .msg.from-agent .delivery")).to_have_text(["sent", "sent"])
        await expect(box).to_have_value("")

        # Typing shows on the other side, both ways.
        await chat.locator("#text").press_sequentially("好的")
        await expect(agent.locator("#typing")).to_be_visible()
        # (the server relays at most one typing frame per 2 s, so type at a person's pace)
        await box.press_sequentially("还有一件事想问", delay=700)
        await expect(chat.locator("#typing")).to_be_visible()
        await box.fill("")

        # Close with a resolution tag, from the keyboard.
        await agent.keyboard.press("Alt+e")
        await expect(agent.locator("#close-dlg")).to_be_visible()
        await agent.locator("#close-resolution").select_option("presale_question")
        await agent.locator("#close-form button[type=submit]").click()
        await expect(agent.locator("#convs .conv")).to_have_count(0)
        await expect(agent.locator("#empty")).to_be_visible()
        [conv] = await rt.store.conversations.many(await rt.store.client.zrange(rt.store.keys.conv_index, 0, -1))
        assert conv.state == "closed" and conv.resolution == "presale_question"

        # The customer rates five stars; the rating is in the CSAT report, under Alice.
        await chat.locator("label[for=star-5]").click()
        await chat.locator("#csat-form button[type=submit]").click()
        await expect(chat.locator("#csat")).to_be_hidden()
        async with http.get(f"{base}/api/v1/reports/csat", headers={"Authorization": "Bearer sue-token-12345"}) as r:
            report = await r.json()
        assert report["agents"] == [{"agent": "alice", "count": 1, "avg": 5.0}]
        assert [c["rating"] for c in report["conversations"]] == [5]
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
        await expect(problem).to_contain_text("did you mean when?")  # the value in <code>, no quotes
        await expect(admin.locator("#rules-gutter .bad")).to_have_text("7")
        await admin.get_by_label("Test message").fill("我要退款")
        await admin.screenshot(path=screenshot_path("rules-editor.png"))
        # Activating the broken text is refused the same way, and nothing changes.
        await admin.get_by_role("button", name="Activate").click()
        await expect(problem).to_contain_text("7:5")
        assert rt.rules.current.version == before

        # Jump to the line, fix it, explain a test message, activate.
        await problem.get_by_role("button").click()
        await src.fill(RULES.replace("wen:", "when:"))
        await admin.get_by_role("button", name="Explain").click()
        await expect(admin.locator("#rules-result")).to_contain_text("aftersale")
        await admin.get_by_role("button", name="Replay").click()
        await expect(admin.locator("#rules-result h3")).to_have_text("Replay")
        await expect(admin.locator("#rules-result")).to_contain_text('"total"')
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


SIDE_CONFIG = BASIC.format(cap=5).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + """
routing:
  rules: rules.yaml
sla:
  profiles: sla.yaml
"""
SIDE_RULES = """
default: {pool: presale, sla: presale}
rules:
  - name: returns
    when: {contains: 退货}
    then: {pool: presale, sla: returns}
"""
SIDE_SLA = """
profiles:
  presale:
    first_response: 10m
  returns:
    first_response: 90s
"""


async def test_conversation_side_panels_history_orders_and_why(
        redis_url: str, browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The customer's earlier conversation, their orders and why the chat came here; the
    README's console screenshot."""
    (tmp_path / "rules.yaml").write_text(SIDE_RULES)
    (tmp_path / "sla.yaml").write_text(SIDE_SLA)
    settings = parse_settings(SIDE_CONFIG, "<test>", base_dir=str(tmp_path))
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        _, page = await ui.console(browser, base, "alice-token-1234", width=1400)
        first, token = await customer(http, base)
        await first.send({"type": "message", "text": "上周买的大衣什么时候发货？", "client_msg_id": msg_id()})
        row = page.locator("#convs .conv")
        await expect(row).to_have_count(1)
        cid = await row.get_attribute("data-id")
        async with http.post(f"{base}/api/v1/conversations/{cid}/close", json={"resolution": "logistics"},
                             headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200
        await expect(row).to_have_count(0)

        # What a shop's CRM import would set: the customer's name and segment.
        cust = (await rt.store.conversations.get(str(cid))).customer_id
        await rt.store.client.hset(rt.store.keys.customer(cust), mapping={"name": "林小姐", "segment": "vip"})
        orders = tmp_path / "orders.yaml"
        orders.write_text(
            "orders:\n"
            f"  - {{id: '2024111100012301', customer_id: {cust}, state: shipped,"
            " created_at: '2024-11-11T00:12:05+08:00', courier: 中通快递, tracking_no: '75310012345678',"
            " items: [{title: 羊毛混纺双面呢大衣 驼色 M, quantity: 1, price: 599.00}]}\n", encoding="utf-8")
        service = FileOrderService(orders)
        monkeypatch.setattr(console_api, "ORDER_SERVICE", lambda rt: service)

        again, _ = await customer(http, base, token)
        await again.send({"type": "message", "text": "我想退货，大衣袖子有点长", "client_msg_id": msg_id()})
        other, _ = await customer(http, base)
        await other.send({"type": "message", "text": "双十一的优惠券还能用吗？", "client_msg_id": msg_id()})
        await expect(row).to_have_count(2)
        # Most urgent first: the 90 s return clock before the 10 min presale one; VIP badge shown.
        await expect(row.first.locator(".who")).to_have_text("林小姐VIP")
        await expect(row.first.locator(".sla")).to_have_class(re.compile("sla-(green|amber)"))
        await row.first.click()

        await expect(page.locator("#history .past")).to_have_count(1)
        await expect(page.locator("#history .past summary")).to_contain_text("logistics")
        await page.locator("#history .past summary").click()
        await expect(page.locator("#history .past .msg .body")).to_have_text("上周买的大衣什么时候发货？")
        await expect(page.locator("#orders .order")).to_contain_text("2024111100012301")
        await expect(page.locator("#orders .order")).to_contain_text("shipped")  # in the console's language (issue 19)
        await expect(page.locator("#why")).to_contain_text("returns")
        await expect(page.locator("#why")).to_contain_text("presale")
        await page.locator("#reply-text").fill("林小姐您好，支持七天无理由退换，我这边帮您登记")
        await page.screenshot(path=screenshot_path("console.png"))
        for sock in (first, again, other):
            await sock.close()


async def test_supervisor_answers_a_discount_request_sets_a_cap_and_takes_over(
        redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        _, sue = await ui.console(browser, base, "sue-token-12345", width=1400)
        _, alice = await ui.console(browser, base, "alice-token-1234")
        shopper, _ = await customer(http, base)
        await shopper.send({"type": "message", "text": "大衣袖口有点脱线，能补偿一点吗", "client_msg_id": msg_id()})
        await expect(alice.locator("#convs .conv")).to_have_count(1)

        await alice.keyboard.press("Alt+d")
        await alice.get_by_label("Amount (CNY)").fill("35")
        await alice.get_by_label("Why the customer should get it").fill("袖口脱线补偿")
        await alice.get_by_role("button", name="Request approval").click()
        await expect(alice.locator(".toast").last).to_contain_text("¥35: pending")

        await sue.keyboard.press("Alt+2")
        await expect(sue.locator("#sv-pools")).to_contain_text("presale")
        await expect(sue.locator("#sv-agents")).to_contain_text("Alice")
        await expect(sue.locator("#sv-bot-stats")).to_contain_text("Deflection")
        item = sue.locator("#sv-approvals .approval")
        await expect(item).to_contain_text("¥35")
        await expect(item).to_contain_text("袖口脱线补偿")
        await sue.screenshot(path=screenshot_path("console-supervisor.png"))
        await item.get_by_label("Note to the agent").fill("同意，下次注意质检")
        await item.get_by_role("button", name="Approve").click()
        await expect(alice.locator(".toast").last).to_contain_text("¥35: approved — 同意，下次注意质检")
        await expect(sue.locator("#sv-approvals")).to_have_text("None.")

        # Caps are set on the team page.
        await sue.keyboard.press("Alt+4")
        await sue.get_by_label("Cap Alice").fill("3")
        await sue.get_by_label("Cap Alice").locator("xpath=..").get_by_role("button", name="Save").click()
        await expect(sue.locator(".toast").last).to_contain_text("alice: Cap 3. Saved.")
        assert (await rt.store.agents.get("alice")).max_chats == 3
        # It overrides the config's cap until cleared: the page shows both and goes back on request.
        await expect(sue.get_by_label("Cap Alice").locator("xpath=..")).to_contain_text("config 5")
        await sue.get_by_role("button", name="Use config Alice").click()
        await expect(sue.get_by_label("Cap Alice")).to_have_value("5")
        await expect(sue.get_by_role("button", name="Use config Alice")).to_have_count(0)
        assert (await rt.store.agents.get("alice")).cap_override is None

        await sue.keyboard.press("Alt+2")
        # The open conversation names its customer and agent as people read them, not by ids.
        row = sue.locator("#sv-convs tr").nth(1)
        await expect(row).to_contain_text("Alice")
        await expect(row).to_contain_text(re.compile(r"Visitor [0-9a-f]{6}"))
        await expect(row).not_to_contain_text("cu_")
        await sue.locator("#sv-convs").get_by_role("button", name="Take over").click()
        await expect(alice.locator("#convs .conv")).to_have_count(0)
        await sue.keyboard.press("Alt+1")
        await expect(sue.locator("#messages .msg.from-customer .body")).to_have_text("大衣袖口有点脱线，能补偿一点吗")
        await shopper.close()


async def test_keyboard_help_drafts_languages_and_labels(redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        _, page = await ui.console(browser, base, "alice-token-1234")
        socks = []
        for text in ("第一位客户", "第二位客户"):
            sock, _ = await customer(http, base)
            await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
            socks.append(sock)
        await expect(page.locator("#convs .conv")).to_have_count(2)
        assert await page.evaluate(ui.UNNAMED_CONTROLS) == []

        # `?` outside a text field opens the shortcut overlay; Esc closes it.
        await page.locator("#messages").click()
        await page.keyboard.press("?")
        help_rows = page.locator("#help-keys tr")
        await expect(page.locator("#help-dlg")).to_be_visible()
        await expect(help_rows.filter(has_text="Alt+T")).to_contain_text("Transfer")
        await page.keyboard.press("Escape")
        await expect(page.locator("#help-dlg")).to_be_hidden()

        # A draft stays with its conversation, across switching and a reload.
        first = await page.locator("#messages .msg .body").first.text_content()
        await page.locator("#reply-text").fill("草稿：尺码表稍后发您")
        await page.keyboard.press("Alt+ArrowDown")
        await expect(page.locator("#messages .msg .body").first).not_to_have_text(first or "")
        await expect(page.locator("#reply-text")).to_have_value("")
        await page.keyboard.press("Alt+ArrowUp")
        await expect(page.locator("#messages .msg .body").first).to_have_text(first or "")
        await expect(page.locator("#reply-text")).to_have_value("草稿：尺码表稍后发您")
        await page.reload()  # the session cookie signs the agent straight back in
        await expect(page.locator("#conn")).to_have_text("online")
        await expect(page.locator("#signin")).to_be_hidden()
        await page.locator("#convs .conv", has_text=first or "").click()
        await expect(page.locator("#reply-text")).to_have_value("草稿：尺码表稍后发您")

        # Chinese at a click, remembered; then back.
        await page.get_by_role("button", name="中文").click()
        await expect(page.locator("#conn")).to_have_text("在线")
        await expect(page.get_by_role("tab", name="会话", exact=True)).to_be_visible()
        assert await page.evaluate("document.documentElement.lang") == "zh-CN"
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("#conn")).to_have_text("online")
        for sock in socks:
            await sock.close()
