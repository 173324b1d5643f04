"""No English in the Chinese console and no Chinese in the English one (issue 19, item 8): the
visible text of every page an agent and a supervisor open, customer content aside; system notes,
handoff reasons, roles and statuses in the console's language; switching languages redraws the
side panel too."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import console as ui
from helpers.app import running
from helpers.bot_app import bot_settings
from playwright.async_api import Browser, Page, expect

# What the customer, the shop's data and the config wrote: shown as it is, in either language.
CONTENT = ("#lang, #messages .body, .msg .who, #convs .who, #convs .preview, #conv-title, #cust, "
           "#orders .muted, #history, .qr-text, #rec-list, #rec-messages, #rec-title, .toast, #why .conditions, code.v, "
           "#sv-unknown, #sv-convs, #rules-versions, #rules-version, #rules-diff-text, "
           ".avatar.initials")  # an agent's initials are their name's, "A" for Alice
VISIBLE_TEXT = """(skip) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || !n.textContent.trim() || p.closest(skip) || p.closest('script, style, option')) continue;
    if (!p.checkVisibility()) continue;
    out.push(n.textContent.trim());
  }
  return out;
}"""
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]")
# Names, ids and codes from the config and the data, and technical words both languages use.
DATA_WORDS = {"kefu", "VIP", "SLA", "FAQ", "CSV", "webchat", "wechat", "telegram", "presale", "aftersale",
              "Alice", "Bob", "Sue", "alice", "bob", "sue", "Enter", "Shift", "Alt", "Esc", "English", "JSON",
              "Tab", "default", "returns", "Redis", "uPlot", "API", "p", "min", "s", "m", "h", "AM", "PM"}


async def visible_text(page: Page) -> list[str]:
    return list(await page.evaluate(VISIBLE_TEXT, CONTENT))


def chinese_in(texts: list[str]) -> list[str]:
    return [t for t in texts if CJK.search(t)]


def english_in(texts: list[str]) -> list[str]:
    bad = []
    for t in texts:
        # A token with a digit or an underscore is an id (c_661a..., v2, p50), not a word.
        tokens = re.findall(r"[A-Za-z0-9_]+", t)
        words = [w for w in tokens if w not in DATA_WORDS and not re.search(r"[_\d]", w)]
        if words:
            bad.append(t)
    return bad


async def test_every_page_speaks_one_language(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(bot_settings(tmp_path), redis_url) as (_rt, base):
        _, bob = await ui.console(browser, base, "bob-token-12345")
        _, chat = await ui.chat(browser, base)
        await ui.customer_says(chat, "我要退款")  # the bot hands it to a person: a note with its reason
        await expect(bob.locator("#convs .conv")).to_have_count(1, timeout=15000)
        note = bob.locator("#messages .msg.note .body")
        await expect(note).to_have_text([re.compile(r"^The bot handed over: refund")])
        await expect(bob.locator("#why")).to_be_visible()

        en = []
        for tab in ("Alt+1", "Alt+5", "Alt+4"):
            await bob.keyboard.press(tab)
            await bob.wait_for_timeout(600)
            en += chinese_in(await visible_text(bob))
        assert en == []

        # One click: the thread, the notes and the side panel all switch.
        await bob.keyboard.press("Alt+1")
        await bob.locator("#lang").click()
        await expect(note).to_have_text([re.compile(r"^机器人转人工：退款")])
        await expect(bob.locator("#why-panel h3")).to_have_text("分配原因")
        await expect(bob.locator("#why dl.facts dt").first).to_have_text("队列")
        # Why the rules sent it here, worded in Chinese too (the shop's values aside).
        await expect(bob.locator("#why ol.steps li").first).to_contain_text(re.compile("规则"))
        zh = []
        for tab in ("Alt+1", "Alt+5", "Alt+4"):
            await bob.keyboard.press(tab)
            await bob.wait_for_timeout(600)
            zh += english_in(await visible_text(bob))
        assert zh == []

        # The supervisor's pages, in Chinese.
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 760})
        sue = await ctx.new_page()
        await sue.goto(f"{base}/console")
        await sue.locator("#token").fill("sue-token-12345")
        await sue.locator("#signin button[type=submit]").click()
        await expect(sue.locator("#conn")).to_have_text("在线")
        # Explain and replay answer in Chinese too (the engine's own trace stays folded).
        await sue.keyboard.press("Alt+3")
        await sue.locator("#rules-text").fill("我要退款")
        await sue.locator("#rules-explain").click()
        await expect(sue.locator("#rules-result h3")).to_have_text("试算")
        await expect(sue.locator("#rules-result dl.facts")).to_contain_text("退款")
        sup = [f"explain: {t}" for t in english_in(await visible_text(sue))]
        await sue.locator("#rules-replay").click()
        await expect(sue.locator("#rules-result dl.facts")).to_contain_text("回放")
        sup += [f"replay: {t}" for t in english_in(await visible_text(sue))]
        for tab in ("Alt+2", "Alt+3", "Alt+4", "Alt+6"):
            await sue.keyboard.press(tab)
            await sue.wait_for_timeout(1200)
            sup += [f"{tab}: {t}" for t in english_in(await visible_text(sue))]
        assert sup == [], "\n".join(sup)
        await ctx.close()
