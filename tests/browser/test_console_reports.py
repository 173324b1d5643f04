"""The reports page in real Chromium: over a hundred conversations from the real pipeline, the
page draws its five charts and the agent table with the same numbers the summary API gives,
filters narrow them, the CSV link downloads the range, and an agent cannot reach any of it."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import sqlalchemy as sa
from helpers import console as ui
from helpers.app import BASIC, running
from helpers.archive import wait_archived
from helpers.clients import agent, customer
from helpers.shots import screenshot_path
from helpers.traffic import chat, many
from playwright.async_api import Browser, Page, expect

from router.archive.schema import conversations
from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

SEEDED = 120
SUE = {"Authorization": "Bearer sue-token-12345"}


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=100).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
""", "<test>")


async def vary(rt: Runtime) -> None:
    """Give the archived rows the spread a real day has: creation over 24 hours, first responses
    from seconds to an hour, some SLA breaches, bot outcomes and ratings. The pipeline's SLA, bot
    and CSAT paths have their own tests; here every chart needs something to draw."""
    c = conversations.c
    async with rt.archive.engine.begin() as conn:
        rows = (await conn.execute(sa.select(c.id, c.created).order_by(c.created))).all()
        rng = random.Random(11)
        for n, (cid, created) in enumerate(rows):
            # Every hour of the last day has some (n % 24), busier a few hours back.
            back = n % 24 if n < 48 else int(rng.triangular(0, 24, 5))
            await conn.execute(sa.update(conversations).where(c.id == cid).values(
                created=created - back * 3600,
                first_response_s=None if n % 10 == 9 else float((n * 37) % 2400),
                sla_breaches=1 if n % 7 == 0 else 0,
                bot_outcome=("resolved", "handoff", None)[n % 3],
                csat_rating=None if n % 4 else 5 - (n % 24) // 8,  # kinder in the later hours
                agent="bob" if n % 5 == 0 else "alice",
            ))


async def figure_total(page: Page, fid: str) -> int:
    return int(await page.locator(f"#{fid}").get_attribute("data-total") or "-1")


async def check_page_matches_api(page: Page, s: dict[str, Any]) -> None:
    await expect(page.locator("#rp-body")).to_be_visible()
    await expect(page.locator("#tab-reports figure.chart canvas")).to_have_count(5)
    await expect(page.locator("#ch-volume .sum")).to_have_text(f"{s['conversations']} conversations")
    assert await figure_total(page, "ch-volume") == s["conversations"]
    answered = sum(b["count"] for b in s["first_response_hist"])
    assert await figure_total(page, "ch-frt") == answered
    assert await figure_total(page, "ch-sla") == s["sla_breaches"]
    assert await figure_total(page, "ch-deflection") == s["bot_resolved"]
    assert int(await page.locator("#ch-deflection").get_attribute("data-handed") or "-1") == \
        s["bot_conversations"] - s["bot_resolved"]
    assert await figure_total(page, "ch-csat") == s["csat"]["count"]
    if s["csat"]["count"]:
        avg = f"{s['csat']['average']:g}"  # as JavaScript prints it: 3.0 is "3"
        await expect(page.locator("#ch-csat .sum")).to_have_text(f"average {avg} · {s['csat']['count']} ratings")
    await expect(page.locator("[data-kpi=k_conversations] dd")).to_have_text(str(s["conversations"]))
    await expect(page.locator("[data-kpi=k_sla] dd")).to_have_text(str(s["sla_breaches"]))
    rows = page.locator("#rp-agents tr[data-agent]")
    await expect(rows).to_have_count(len(s["by"]["agent"]))
    for a in s["by"]["agent"]:
        cells = page.locator(f"#rp-agents tr[data-agent='{a['key']}'] td")
        await expect(cells.nth(1)).to_have_text(str(a["conversations"]))
        await expect(cells.nth(7)).to_have_text(str(a["sla_breaches"]))


async def test_reports_page_draws_the_summary_and_agents_cannot_reach_it(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(settings(f"sqlite:///{tmp_path}/archive.db"), redis_url) as (rt, base), \
            aiohttp.ClientSession() as http:
        alice_ws = await agent(http, base, "alice-token-1234")
        await many(http, base, alice_ws, SEEDED, 30)
        await alice_ws.close()
        await wait_archived(rt, SEEDED)
        await vary(rt)

        _, sue = await ui.console(browser, base, "sue-token-12345", width=1400)
        errors = ui.page_errors(sue)
        await sue.get_by_role("tab", name="Reports").click()
        await expect(sue.locator("#rp-body")).to_be_visible()
        href = await sue.locator("#rp-csv").get_attribute("href") or ""
        q = parse_qs(urlparse(href).query)
        rng = f"from={q['from'][0]}&to={q['to'][0]}"
        async with http.get(f"{base}/api/v1/reports/summary?{rng}", headers=SUE) as r:
            assert r.status == 200
            s = await r.json()
        assert s["conversations"] == SEEDED and s["sla_breaches"] > 0 and s["csat"]["count"] > 0
        assert len(s["by"]["hour"]) >= 24  # spread over a day
        await check_page_matches_api(sue, s)
        assert await sue.evaluate(ui.UNNAMED_CONTROLS) == []
        await sue.set_viewport_size({"width": 1400, "height": 900})  # the agent table in the picture too
        await sue.screenshot(path=screenshot_path("console-reports.png"))

        # On a phone-sized screen the charts redraw to fit and the agent table scrolls in its box:
        # nothing runs off the side of the page.
        await sue.set_viewport_size({"width": 420, "height": 800})
        await sue.wait_for_function(
            "() => [...document.querySelectorAll('#tab-reports .chart')].every((f) => f.scrollWidth <= f.clientWidth)"
            " && document.querySelector('#tab-reports').scrollWidth <= document.querySelector('#tab-reports').clientWidth",
            timeout=10000)
        await sue.set_viewport_size({"width": 1400, "height": 900})

        # The CSV link downloads the same range with the console's own session.
        got = await sue.request.get(f"{base}{href}")
        assert got.status == 200
        assert len((await got.text()).strip().splitlines()) == SEEDED + 1

        # Narrowed to one agent, the charts and table follow the API's figures for that agent.
        await sue.locator("#rp-agent").select_option("bob")
        await sue.get_by_role("button", name="Apply").click()
        async with http.get(f"{base}/api/v1/reports/summary?{rng}&agent=bob", headers=SUE) as r:
            bob = await r.json()
        assert 0 < bob["conversations"] < SEEDED
        await expect(sue.locator("#ch-volume .sum")).to_have_text(f"{bob['conversations']} conversations")
        await check_page_matches_api(sue, bob)

        # In Chinese, every label comes from the console's tables.
        await sue.locator("#rp-agent").select_option("")
        await sue.get_by_role("button", name="Apply").click()
        await sue.locator("#lang").click()
        await expect(sue.get_by_role("tab", name="报表")).to_have_attribute("aria-selected", "true")
        await expect(sue.locator("#ch-volume figcaption")).to_have_text("各时段会话量")
        await expect(sue.locator("#ch-volume .sum")).to_have_text(f"{SEEDED} 个会话")
        await sue.screenshot(path=screenshot_path("console-reports-zh.png"))
        await sue.locator("#lang").click()
        assert errors == []  # no script error, no CSP refusal of the vendored charts

        # A conversation still open counts too, read from Redis, and the page says so.
        alice_ws = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await chat(cust, alice_ws, ["今天刚来问：有没有大码"], [])
        await sue.get_by_role("button", name="Apply").click()
        await expect(sue.locator("#rp-status")).to_have_text(
            "Includes 1 not archived yet (open or just closed), read from Redis.")
        await expect(sue.locator("#ch-volume .sum")).to_have_text(f"{SEEDED + 1} conversations")
        async with http.get(f"{base}/api/v1/reports/summary?{rng}", headers=SUE) as r:
            await check_page_matches_api(sue, await r.json())
        await cust.close()
        await alice_ws.close()

        # An agent has no Reports tab; the page's address shows why; the server refuses the data.
        _, alice = await ui.console(browser, base, "alice-token-1234")
        await expect(alice.get_by_role("tab", name="Reports")).to_be_hidden()
        await alice.goto(f"{base}/console#reports")
        await expect(alice.locator("#tab-forbidden")).to_be_visible()
        await expect(alice.locator("#tab-forbidden")).to_have_text(re.compile("for supervisors and admins"))
        await expect(alice.locator("#tab-reports")).to_be_hidden()
        assert await alice.locator("#tab-reports canvas").count() == 0
        for path in (f"/api/v1/reports/summary?{rng}", f"/api/v1/reports/export.csv?{rng}"):
            got = await alice.request.get(f"{base}{path}")
            assert got.status == 403, path
