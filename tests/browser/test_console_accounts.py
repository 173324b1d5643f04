"""Issue 16 in the browser: the admin signs in with ID and password, adds an agent on the Team
page and gets their one-time password; the new agent signs in with it and is online; the admin
disables them and their console lands on the sign-in form. Two-factor enrolment shows the QR
code the server drew, and the next sign-in asks for the code."""

from __future__ import annotations

import asyncio
import re

import pyotp
from helpers.accounts import ADMIN_PASSWORD, shop_settings
from helpers.app import running
from helpers.console import UNNAMED_CONTROLS, page_errors
from playwright.async_api import Browser, Page, Route, expect


async def _sign_in(page: Page, base: str, aid: str, password: str) -> None:
    await page.goto(f"{base}/console")
    await page.get_by_label("Agent ID").fill(aid)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def test_admin_adds_an_agent_who_signs_in_with_a_password_then_is_disabled(redis_url: str,
                                                                                  browser: Browser) -> None:
    async with running(shop_settings(), redis_url) as (_rt, base):
        actx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        admin = await actx.new_page()
        await _sign_in(admin, base, "ada", ADMIN_PASSWORD)
        await expect(admin.locator("#conn")).to_have_text("online")
        errors = page_errors(admin)  # from here on (the page's first session check is a 401)
        await admin.get_by_role("tab", name="Team").click()
        form = admin.locator("#team-add")
        await form.get_by_label("ID").fill("carol")
        await form.get_by_label("Name").fill("Carol")
        await form.get_by_label("Pools").fill("presale, aftersale")
        await form.get_by_label("Skills").fill("presale:4")
        await form.get_by_label("Cap").fill("3")
        await form.get_by_role("button", name="Add an agent").click()
        secret = admin.locator("#team-secret")
        await expect(secret).to_contain_text("One-time password for carol")
        password = re.search(r": (\S+)$", await secret.inner_text())
        assert password is not None
        row = admin.locator("#team-agents tr", has_text="(carol)")
        await expect(row).to_contain_text("presale, aftersale")
        assert await admin.evaluate(UNNAMED_CONTROLS) == []

        cctx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 760})
        carol = await cctx.new_page()
        await _sign_in(carol, base, "carol", "wrong-password-1")
        await expect(carol.locator("#signin-error")).to_have_text("Wrong ID or password.")
        await carol.wait_for_timeout(1100)  # the failure slows the next try by a second
        await _sign_in(carol, base, "carol", password.group(1))
        await expect(carol.locator("#conn")).to_have_text("online")
        await expect(carol.locator("#me")).to_have_text("Carol")
        # The admin's list, reloaded, shows her online; the admin disables her: her console is signed out.
        await admin.get_by_role("tab", name="Inbox").click()
        await admin.get_by_role("tab", name="Team").click()
        await expect(row).to_contain_text("online")
        admin.on("dialog", lambda d: d.accept())
        await row.get_by_role("button", name="Disable carol").click()
        await expect(carol.locator("#signin")).to_be_visible(timeout=10_000)
        await expect(row).to_contain_text("disabled")
        assert errors == []
        await cctx.close()
        await actx.close()


async def test_two_factor_enrolment_shows_a_qr_code_and_sign_in_then_asks_for_the_code(redis_url: str,
                                                                                        browser: Browser) -> None:
    async with running(shop_settings("accounts:\n  slow_base_s: 0\n"), redis_url) as (rt, base):
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = await ctx.new_page()
        await page.goto(f"{base}/console")
        await page.get_by_label("坐席账号").fill("ada")
        await page.get_by_label("密码", exact=True).fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="登录", exact=True).click()
        await page.get_by_role("tab", name="团队").click()
        await page.get_by_role("button", name="设置两步验证").click()
        qr = page.locator("#enrol-qr img")
        await expect(qr).to_be_visible()
        assert (await qr.get_attribute("src") or "").startswith("data:image/svg+xml;base64,")
        key = await page.locator("#enrol-secret").inner_text()
        await page.locator("#enrol-otp").fill(pyotp.TOTP(key).now())
        await page.get_by_role("button", name="确认").click()
        await expect(page.locator("#tab-team")).to_be_visible()
        await expect(page.locator("#account-2fa")).to_contain_text("已开启")
        # Signed out, the next sign-in asks for a code after the password.
        await page.get_by_role("button", name="退出").click()
        await page.get_by_label("坐席账号").fill("ada")
        await page.get_by_label("密码", exact=True).fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page.locator("#signin-error")).to_have_text("请输入验证器应用中的动态码。")
        rt.accounts.totp.clock = lambda: __import__("time").time() + 30  # the next step: a fresh code
        await page.locator("#signin-otp").fill(pyotp.TOTP(key).at(__import__("time").time() + 30))
        await page.get_by_label("密码", exact=True).fill(ADMIN_PASSWORD)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page.locator("#conn")).to_have_text("在线")
        await ctx.close()


async def test_the_two_factor_button_works_before_the_account_has_loaded(redis_url: str, browser: Browser) -> None:
    """The button is on the page from the start; it used to be wired only once the account had
    loaded, so a click before that did nothing (a CI run on a busy machine met it)."""
    async with running(shop_settings("accounts:\n  slow_base_s: 0\n"), redis_url) as (_rt, base):
        ctx = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = await ctx.new_page()
        held: list[Route] = []

        async def hold(route: Route) -> None:
            held.append(route)  # answered after the click

        await _sign_in(page, base, "ada", ADMIN_PASSWORD)
        await expect(page.locator("#conn")).to_have_text("online")
        await page.route(re.compile(r".*/api/v1/account$"), hold)
        await page.get_by_role("tab", name="Team").click()
        for _ in range(100):
            if held:
                break
            await asyncio.sleep(0.05)
        assert held, "the Team tab did not ask for the account"
        await page.get_by_role("button", name="Set up two-factor sign-in").click()
        await expect(page.locator("#enrol-qr img")).to_be_visible()
        await expect(page.locator("#enrol-otp")).to_be_focused()
        for route in held:
            await route.continue_()
        await ctx.close()
