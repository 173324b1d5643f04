"""Signed out elsewhere: the console open with that session closes (4401) and shows its sign-in
form, rather than reconnecting with a dead cookie."""

from __future__ import annotations

import asyncio

import aiohttp
from helpers import console as ui
from helpers.app import basic_settings, running
from playwright.async_api import Browser, Route, WebSocket, expect


async def test_the_console_lands_on_sign_in_when_its_session_is_signed_out_elsewhere(
        redis_url: str, browser: Browser) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        ctx, page = await ui.console(browser, base, "alice-token-1234")
        cookie = next(c["value"] for c in await ctx.cookies() if c["name"] == "kefu_agent")
        sockets: list[WebSocket] = []
        page.on("websocket", lambda ws: sockets.append(ws))

        async def busy(route: Route) -> None:
            # The API cannot say the session ended (a busy server): the close code alone must.
            if route.request.method == "GET":
                await route.fulfill(status=503, body='{"error": "unavailable"}')
            else:
                await route.continue_()

        await page.route("**/api/v1/session", busy)
        # The same cookie signs out from another computer.
        async with http.delete(f"{base}/api/v1/session",
                               headers={"Cookie": f"kefu_agent={cookie}", "Origin": base}) as r:
            assert r.status == 200
        await expect(page.locator("#signin")).to_be_visible(timeout=5000)
        await expect(page.locator("#app")).to_be_hidden()
        await asyncio.sleep(2)  # the console's first reconnect would come within a second
        assert sockets == []
        await ctx.close()
