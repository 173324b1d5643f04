"""The shop set-up tab lists a document's problems in the console's language (issue 19, item 8):
the admin API sends each problem's code and params beside its English message, and the console
words it from its tables. In the Chinese console a pools document of 120 pools with four kinds of
mistake, a business-hours document with a bad day and a FAQ of 150 entries with five kinds of
mistake are validated: every problem is at its file:line:col, in Chinese, with no English word
except the shop's values and the YAML words the admin types (each in a <code class="v">);
switching to English words the same problems again, with no Chinese."""

from __future__ import annotations

import re

from helpers.app import BASIC, running
from helpers.axe import assert_no_serious_violations
from helpers.console import PROBLEM_TEXT
from helpers.shots import screenshot_path
from playwright.async_api import Browser, Page, expect

from kefu_common.errors import ConfigError, ConfigErrors
from router.config.settings import Settings, parse_settings
from router.live.kinds import KINDS, Context

ADMIN_TOKEN = "ada-admin-token-1"


def settings() -> Settings:
    admin = f"  - id: ada\n    name: Ada\n    token: {ADMIN_TOKEN}\n    role: admin\n    pools: [presale]\n"
    return parse_settings(BASIC.format(cap=5).replace("worker:\n", admin + "worker:\n", 1), "<test>")


def pools_doc() -> str:
    out = ["pools:"]
    for i in range(120):
        pid = {1: f"bad id {i}", 2: "p0"}.get(i % 10, f"p{i}")  # a space; a duplicate
        out.append(f"  - id: {pid}")
        if i % 10 == 5:
            out.append(f"    name: {'长' * 201}")
        if i % 10 == 7:
            out.append("    skills: [售前, vip]")  # a skill outside A-Z a-z 0-9 _ . -
    return "\n".join(out) + "\n"


def faq_doc() -> str:
    out = ["threshold: 3", "entries:"]
    for i in range(150):
        out += [f"  - id: {'q0' if i % 10 == 9 else f'q{i}'}", f"    question: 问题{i}",
                f"    answer: {'' if i % 10 == 3 else f'答案{i}'}", "    category: 售前"]
        if i % 10 == 5:
            out.append("    tag: 红")
        if i % 10 == 7:
            out.append("    variants: ['', 换个说法]")
    return "\n".join(out) + "\n"


DOCS = {
    "pools": pools_doc(),
    "hours": "hours:\n  timezone: Asia/Shanghai\n  days: mon-fry\n  hours: '09:00-18:00'\n",
    "faq": faq_doc(),
}
# One problem of each kind, as the Chinese console words it (the values shown as written).
ZH = {
    "pools": ["技能组编号 bad id 1：只能用 1 到 64 个 A-Z a-z 0-9 _ . - 字符", "技能组编号 p0 重复",
              "技能组的 name 最多 200 个字符", "技能 售前：只能用 1 到 64 个 A-Z a-z 0-9 _ . - 字符"],
    "hours": ["hours：未知的星期 fry；应为以下之一：mon、tue、wed、thu、fri、sat、sun"],
    "faq": ["threshold 必须是 0 到 1 之间的数字", "answer 必须是非空文字", "未知的键 tag；是不是想写 tags？",
            "应为非空文字", "编号 q0 重复（第一次出现在条目 0）"],
}
EN = {
    "pools": ["duplicate pool id p0", "a pool's name is at most 200 characters"],
    "hours": ["hours: unknown day fry; expected one of mon, tue, wed, thu, fri, sat, sun"],
    "faq": ["threshold must be a number from 0 to 1", "unknown key tag; did you mean tags?"],
}

CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]")


def expected(kind: str) -> list[ConfigError]:
    try:
        KINDS[kind].check(DOCS[kind], Context(agents={"ann", "ada"}))
    except ConfigErrors as exc:
        return sorted(exc.errors, key=lambda e: (e.line, e.col))
    raise AssertionError(f"{kind}: the document has no problem")


def english_words(texts: list[str]) -> list[str]:
    return [w for t in texts for w in re.findall(r"[A-Za-z]+", t)]


async def validate(page: Page, kind: str, problems: list[ConfigError]) -> list[str]:
    # The kind's active document loads into the editor: wait for it, so that it does not land
    # on top of the document filled in below.
    await page.locator("#setup-src").fill("")
    await page.locator("#setup-kind").select_option(kind)
    await expect(page.locator("#setup-src")).not_to_have_value("")
    await expect(page.locator("#setup-versions li")).not_to_have_count(0)
    await page.locator("#setup-src").fill(DOCS[kind])
    await page.locator("#setup-validate").click()
    items = page.locator("#setup-problems > li")
    await expect(items).to_have_count(len(problems), timeout=20000)
    # Each at its place, in the order of the document.
    await expect(items.locator("code.v:first-child")).to_have_text(
        [f"{KINDS[kind].file}:{e.line}:{e.col}" for e in problems])
    return await items.all_inner_texts()


async def test_setup_problems_are_worded_in_the_consoles_language(redis_url: str, browser: Browser) -> None:
    problems = {kind: expected(kind) for kind in DOCS}
    assert len(problems["pools"]) == 48 and len(problems["faq"]) == 61, {k: len(v) for k, v in problems.items()}
    assert len({e.code for ps in problems.values() for e in ps}) == 10
    async with running(settings(), redis_url) as (_rt, base):
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
        page = await ctx.new_page()
        await page.goto(f"{base}/console")
        await page.locator("#token").fill(ADMIN_TOKEN)
        await page.locator("#signin button[type=submit]").click()
        await expect(page.locator("#conn")).to_have_text("在线")
        await page.get_by_role("tab", name="店铺设置").click()
        await expect(page.locator("#setup-version")).to_contain_text("v1")

        for kind in DOCS:
            texts = await validate(page, kind, problems[kind])
            zh = list(await page.evaluate(PROBLEM_TEXT, "setup-problems"))
            assert english_words(zh) == [], (kind, sorted(set(english_words(zh))))
            for w in ZH[kind]:
                assert any(t.endswith(w) for t in texts), (kind, w, texts[:6])
        # The pool form's refusals are worded too, at the field they name.
        await page.locator("#setup-kind").select_option("pools")
        await page.locator("#pool-id").fill("bad id")
        await page.locator("#pool-skills").fill("vip, 售前")
        await page.locator("#pool-form button[type=submit]").click()
        items = page.locator("#setup-problems > li")
        await expect(items).to_have_text(["id：技能组编号 bad id：只能用 1 到 64 个 A-Z a-z 0-9 _ . - 字符",
                                          "skills[1]：技能 售前：只能用 1 到 64 个 A-Z a-z 0-9 _ . - 字符"])
        assert english_words(list(await page.evaluate(PROBLEM_TEXT, "setup-problems"))) == []
        await validate(page, "faq", problems["faq"])
        await page.locator("#setup-problems").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path("setup-problems-zh.png"))
        await assert_no_serious_violations(page, "#tab-setup")

        # One click to English: the problems are worded again, with no Chinese but the shop's own.
        await page.locator("#lang").click()
        await expect(page.locator("#conn")).to_have_text("online")
        for kind in DOCS:
            texts = await validate(page, kind, problems[kind])
            en = list(await page.evaluate(PROBLEM_TEXT, "setup-problems"))
            assert [t for t in en if CJK.search(t)] == [], kind
            for w in EN[kind]:
                assert any(t.endswith(w) for t in texts), (kind, w, texts[:6])
        await ctx.close()
