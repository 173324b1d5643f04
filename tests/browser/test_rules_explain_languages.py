"""The rule editor's explain and replay in both languages (issue 19, item 8): the server answers
with codes and parameters, and the console words every rule's step, the replay's counts, moves
and rule matches in the agent's language. In Chinese no English word shows except the shop's own
values (rule names, pools, keywords, each in a <code class="v">); in English no Chinese does.
Replay runs over 300 recorded conversations from 300 customers."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from helpers.app import running
from helpers.axe import assert_no_serious_violations
from helpers.clients import customer, msg_id
from helpers.console import UNNAMED_CONTROLS
from helpers.rulesets import write_config
from helpers.shots import screenshot_path
from playwright.async_api import Browser, Page, expect

from router.config.settings import load_settings

# Each rule before the deciding one misses for a different kind of reason; with the default
# moved to aftersale, the replay moves every non-refund conversation there.
CANDIDATE = """\
default:
  pool: aftersale
rules:
  - name: vip-first
    when: {segment: vip}
    then: {boost: 10, tags: [vip]}
    continue: true
  - name: night-wechat
    when: {all: [{channel: wechat}, {time: "22:00-08:00"}]}
    then: {pool: aftersale}
  - name: invoices
    when: {any: [{contains: 发票}, {contains_all: [开票, 抬头]}]}
    then: {pool: aftersale}
  - name: long-chats
    when: {message_count: ">= 5"}
    then: {pool: aftersale}
  - name: serials
    when: {matches: 'SN\\d{6}'}
    then: {pool: aftersale}
  - name: down-jackets
    when: {product_title: [羽绒服]}
    then: {pool: aftersale}
  - name: refund-calm
    when: {intent: refund, not: {angry: true}}
    then: {pool: aftersale, priority: high}
"""

# Text nodes inside #rules-result, except the shop's values and the folded JSON.
RESULT_TEXT = """() => {
  const out = [];
  const root = document.getElementById('rules-result');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!n.textContent.trim() || p.closest('code.v') || !p.checkVisibility()) continue;
    out.push(n.textContent.trim());
  }
  return out;
}"""
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]")
TECHNICAL = {"JSON"}


def english_words(texts: list[str]) -> list[str]:
    return [w for t in texts for w in re.findall(r"[A-Za-z]+", t) if w not in TECHNICAL]


async def seed(base: str, redis_url: str, n: int) -> None:
    """`n` customers each start a conversation; two in three ask for a refund."""
    r = aioredis.from_url(redis_url, decode_responses=True)
    gate = asyncio.Semaphore(25)
    async with aiohttp.ClientSession() as http:
        async def one(i: int) -> None:
            async with gate:
                sock, _ = await customer(http, base)
                text = "我要退款" if i % 3 else "这件有M码吗"
                await sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
                await sock.expect(lambda f: f["type"] == "ack")
                await sock.close()

        await asyncio.gather(*(one(i) for i in range(n)))
    deadline = time.monotonic() + 60
    while True:
        ids = await r.zrange("{rt:kefu}:convs", 0, -1)
        routed = sum([await r.hexists(f"{{rt:kefu}}:conv:{c}", "decision") for c in ids])
        if routed >= n:
            break
        assert time.monotonic() < deadline, f"only {routed} of {n} conversations were routed"
        await asyncio.sleep(0.2)
    await r.aclose()


async def explain_and_replay(page: Page, done: str) -> tuple[list[str], list[str]]:
    await page.locator("#rules-text").fill("我要退款")
    await page.locator("#rules-explain").click()
    steps = page.locator("#rules-result ol.steps > li")
    await expect(steps).to_have_count(7)
    explained = list(await page.evaluate(RESULT_TEXT))
    await page.locator("#rules-replay").click()
    await expect(page.locator("#rules-result dl.facts")).to_contain_text(done, timeout=30000)
    replayed = list(await page.evaluate(RESULT_TEXT))
    return explained, replayed


async def test_explain_and_replay_speak_the_consoles_language(redis_url: str, browser: Browser,
                                                              tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path)
    async with running(load_settings(cfg), redis_url) as (_rt, base):
        await seed(base, redis_url, 300)
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
        page = await ctx.new_page()
        await page.goto(f"{base}/console")
        await page.locator("#token").fill("sue-super-token-1")
        await page.locator("#signin button[type=submit]").click()
        await expect(page.locator("#conn")).to_have_text("在线")
        await page.keyboard.press("Alt+3")
        await expect(page.locator("#rules-src")).not_to_have_value("")
        await page.locator("#rules-src").fill(CANDIDATE)

        zh_explain, zh_replay = await explain_and_replay(page, "300 条决策")
        assert english_words(zh_explain) == [], zh_explain
        assert english_words(zh_replay) == [], zh_replay
        facts = page.locator("#rules-result dl.facts")
        await expect(facts).to_contain_text("100 (33.3%)")  # pool changed
        await expect(facts).to_contain_text("presale → aftersale：100")
        await expect(facts).to_contain_text("默认规则：100 → 100")  # the default, worded
        await expect(facts).to_contain_text("refund-calm：0 → 200")

        # The explanation, step by step, in Chinese: each kind of miss, then the decision.
        await page.locator("#rules-explain").click()
        steps = page.locator("#rules-result ol.steps > li")
        await expect(steps).to_have_text([
            "规则 vip-first 未命中：客户类型是 新客户，不是 VIP。",
            "规则 night-wechat 未命中：渠道是 webchat，不是 wechat。",
            "规则 invoices 未命中：以下条件都不成立：消息不包含 发票 中的任何一个；消息缺少 开票、抬头。",
            "规则 long-chats 未命中：消息数 1，不满足 ≥ 5。",
            re.compile(r"^规则 serials 未命中：消息不匹配 /SN\\d\{6\}/。$"),
            "规则 down-jackets 未命中：客户没有在看商品。",
            "规则 refund-calm 命中并决定分配：检测到意图 退款，并且客户情绪平稳。",
        ])
        await expect(steps.last.locator("code.v")).to_have_text(["refund-calm", "退款"])
        await page.locator("#rules-result ol.steps").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path("rules-explain-zh.png"))
        assert await page.evaluate(UNNAMED_CONTROLS) == []
        await assert_no_serious_violations(page, "#tab-rules")  # the values' contrast among them

        # One click to English: the same answers, worded again, with no Chinese but the shop's.
        await page.locator("#lang").click()
        await expect(page.locator("#conn")).to_have_text("online")
        # The answer on screen is drawn again in English, and the edit in progress is kept.
        await expect(page.locator("#rules-result h3")).to_have_text("Explain")
        await expect(steps.first).to_have_text(re.compile(r"^Rule vip-first did not match"))
        await expect(page.locator("#rules-src")).to_have_value(CANDIDATE)
        en_explain, en_replay = await explain_and_replay(page, "300 decisions")
        assert [t for t in en_explain + en_replay if CJK.search(t)] == []
        await expect(page.locator("#rules-result dl.facts")).to_contain_text("default: 100 → 100")
        await page.locator("#rules-explain").click()
        await expect(steps.first).to_have_text(
            "Rule vip-first did not match: the customer segment is new customer, not VIP.")
        await expect(steps.last).to_have_text(
            "Rule refund-calm decided: intent refund found and the customer is not upset.")
        await ctx.close()
