"""The rule editor's Validate lists the file's problems in the console's language (issue 19,
item 8): the server sends each problem's code and params beside the English message, and the
console words it from its tables. A file of 120 rules with fifteen kinds of mistake is validated
in the Chinese console: every problem is at its line:col, in Chinese, with no English word except
the shop's values and the YAML words the admin types (each in a <code class="v">); switching to
English words the same problems again, with no Chinese."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.app import running
from helpers.axe import assert_no_serious_violations
from helpers.console import PROBLEM_TEXT, UNNAMED_CONTROLS
from helpers.rulesets import write_config
from helpers.shots import screenshot_path
from playwright.async_api import Browser, Page, expect

from router.config.settings import load_settings
from routing_rules import check_rules

# Rule i makes mistake i % 15; the pools the config has are presale and aftersale.
MISTAKES = [
    "then: {pool: presle}",  # unknown pool, with a did-you-mean
    "then: {pool: aftersale, priority: urgentt}",
    "then: {pool: aftersale, min_level: 9}",
    "colour: red\n    then: {pool: aftersale}",  # unknown key, with the keys a rule has
    "when: {segment: vipp}\n    then: {pool: aftersale}",
    "when: {intent: refund}",  # no then
    "then: {pool: aftersale, bot: true, human: true}",
    "when: {any: []}\n    then: {pool: aftersale}",
    "when: {message_count: lots}\n    then: {pool: aftersale}",
    "when: {channel: wechatt}\n    then: {pool: aftersale}",  # a warning: a near miss
    "continue: true\n    then: {pool: aftersale, tags: [x]}",
    "then: {pool: aftersale, skills: []}",
    "when: {days: mon-fry}\n    then: {pool: aftersale}",  # why, from the day parser
    'when: {time: "9-18"}\n    then: {pool: aftersale}',
    "when: {matches: 'x(?=y)'}\n    then: {pool: aftersale}",  # what re2 refuses
]
N = 120


def mistakes_file() -> str:
    out = ["timezone: Mars/Olympus", "default:", "  pool: presale", "rules:"]
    for i in range(N):
        # Every 12th name repeats the first rule's name: a duplicate on top of its own mistake.
        name = "r-0" if i and i % 24 == 0 else f"r-{i}"
        out.append(f"  - name: {name}\n    {MISTAKES[i % len(MISTAKES)]}")
    return "\n".join(out) + "\n"


SOURCE = mistakes_file()

CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]")
TECHNICAL = {"YAML"}


def english_words(texts: list[str]) -> list[str]:
    return [w for t in texts for w in re.findall(r"[A-Za-z]+", t) if w not in TECHNICAL]


async def validate(page: Page, n: int) -> None:
    await page.locator("#rules-validate").click()
    await expect(page.locator("#rules-problems > li")).to_have_count(n, timeout=20000)


async def test_validate_words_every_problem_in_the_consoles_language(redis_url: str, browser: Browser,
                                                                     tmp_path: Path) -> None:
    expected = check_rules(SOURCE, "r.yaml", pools={"presale", "aftersale"})
    problems = sorted(expected.errors + expected.warnings, key=lambda e: (e.line, e.col))
    assert len(problems) > N and len({e.code for e in problems}) >= 16, {e.code for e in problems}
    places = [f"{e.line}:{e.col}" for e in problems]

    cfg, _ = write_config(tmp_path)
    async with running(load_settings(cfg), redis_url) as (_rt, base):
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
        page = await ctx.new_page()
        await page.goto(f"{base}/console")
        await page.locator("#token").fill("sue-super-token-1")
        await page.locator("#signin button[type=submit]").click()
        await expect(page.locator("#conn")).to_have_text("在线")
        await page.keyboard.press("Alt+3")
        await expect(page.locator("#rules-src")).not_to_have_value("")
        await page.locator("#rules-src").fill(SOURCE)
        await validate(page, len(problems))

        items = page.locator("#rules-problems > li")
        await expect(items.locator("button")).to_have_text(places)
        zh = list(await page.evaluate(PROBLEM_TEXT, "rules-problems"))
        assert english_words(zh) == [], sorted(set(english_words(zh)))
        # Each kind, worded; the shop's values as written.
        texts = await items.all_inner_texts()
        want = [
            "未知的时区 Mars/Olympus；应为标准时区名，例如 Asia/Shanghai 或 Europe/Berlin",
            "未知的技能组 presle；是不是想写 presale？",
            "priority：应为整数或 low、normal、high、urgent 之一，实际是字符串 urgentt",
            "min_level：应为 1 到 5，实际是 9",
            "未知的键 colour；应为以下之一：name、description、when、then、continue、enabled",
            "未知的客户分层 vipp；是不是想写 vip？",
            "规则 r-5：缺少 then",
            "bot: true 和 human: true 只能写一个",
            "any：应为非空的条件列表，实际是空列表",
            "message_count：应为整数、加引号的比较（如 \">= 3\"）或 {min: N, max: M}，实际是字符串 lots",
            "渠道 wechatt 不是已知渠道；是不是想写 wechat？",
            "继续匹配的规则里不能写 pool：这种规则只能添加 tags 和 boost；请移到没有 continue 的规则",
            "skills：应为字符串或字符串列表，实际是空列表",
            "规则名称 r-0 重复（第一次出现在第 5 行）",
            "days：未知的星期 fry；应为以下之一：mon、tue、wed、thu、fri、sat、sun",
            "time：时间应写作 HH:MM，实际是 9",
            "正则 x(?=y)：re2 不支持向前查找 (?=...)",
        ]
        for w in want:
            assert any(t.endswith(w) for t in texts), (w, [t for t in texts if w[:4] in t][:3])
        presle = items.filter(has_text="presle").first
        await expect(presle.locator("code.v")).to_have_text(["presle", "presale"])
        # The gutter's tooltip on a problem's line says the same, in Chinese.
        line = problems[1].line
        title = await page.locator(f"#rules-gutter [data-line='{line}']").get_attribute("title")
        assert title and CJK.search(title), title
        first = problems[0]
        await expect(items.first.locator("button")).to_have_attribute(
            "aria-label", f"{first.line}:{first.col}（第 {first.line} 行第 {first.col} 列）")
        # A problem's place takes the caret there.
        await items.nth(3).locator("button").click()
        await expect(page.locator("#rules-src")).to_be_focused()
        await page.locator("#rules-problems").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path("rules-problems-zh.png"))
        assert await page.evaluate(UNNAMED_CONTROLS) == []
        await assert_no_serious_violations(page, "#tab-rules")

        # One click to English: the problems on screen are worded again, with no Chinese.
        await page.locator("#lang").click()
        await expect(page.locator("#conn")).to_have_text("online")
        await expect(items.filter(has_text="presle").first).to_contain_text(
            "unknown pool presle; did you mean presale?")
        en = list(await page.evaluate(PROBLEM_TEXT, "rules-problems"))
        assert [t for t in en if CJK.search(t)] == []
        await validate(page, len(problems))
        texts = await items.all_inner_texts()
        assert [t for t in texts if CJK.search(t)] == []
        assert any(t.endswith("duplicate rule name r-0 (first at line 5)") for t in texts)
        assert any(t.endswith("min_level: expected 1 to 5, got 9") for t in texts)
        assert any(t.endswith("days: unknown day fry; expected one of mon, tue, wed, thu, fri, sat, sun")
                   for t in texts)

        # A YAML syntax error says what it is, in words, in either language.
        await page.locator("#rules-src").fill("default:\n  pool: presale\nrules:\n\t- name: x\n")
        await validate(page, 1)
        await expect(items).to_have_text(re.compile(r"^4:1 YAML syntax: a character that cannot start "
                                                    r"anything here \(often a tab: indent with spaces\)$"))
        await page.locator("#lang").click()
        await expect(page.locator("#conn")).to_have_text("在线")
        await expect(items).to_have_text("4:1 YAML 语法错误：这里有不能出现的字符（常见的是制表符：缩进请用空格）")
        assert english_words(list(await page.evaluate(PROBLEM_TEXT, "rules-problems"))) == []

        # A row the form refuses is worded on its card too.
        await page.locator("#rules-src").fill(
            "default:\n  pool: presale\nrules:\n  - name: a\n    when: {contains: 退款}\n    then: {pool: aftersale}\n")
        await page.get_by_role("button", name="表单", exact=True).click()
        cards = page.locator("#rb-rules > li")
        await expect(cards).to_have_count(1)
        await cards.first.get_by_label("名称").fill("")
        await page.locator("#rules-validate").click()
        await expect(cards.first.locator(".rb-problem")).to_have_text("规则需要一个名称（一行）")
        await ctx.close()
