"""The records tab's views and filters in real Chromium over hundreds of conversations (issue 19):
a view chosen while the first page is still loading is the one shown; pool, channel and routing
tag narrow the list (live and archived rows alike), Recent lists those closed within the days
chosen, and a reload keeps the view and the filters."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from helpers import console as ui
from helpers.app import BASIC, running
from helpers.axe import assert_no_serious_violations
from helpers.views import DAY, matching, plan, seed_archived, seed_live
from playwright.async_api import Browser, Route, expect

from router.config.settings import Settings, parse_settings

LIVE = 300
ARCHIVED = 120


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=20) + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 86400
  sweep_interval_s: 3600
""", "<test>")


async def test_views_and_filters_over_hundreds(redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(settings(f"sqlite:///{tmp_path}/archive.db"), redis_url) as (rt, base):
        await asyncio.wait_for(rt.archive.ready.wait(), 60)
        now = time.time()
        rng = random.Random(1119)
        plans = [plan(n, now, rng) for n in range(LIVE + ARCHIVED)]
        for p in plans[LIVE:]:
            p.update(state="closed", closed_at=p["closed_at"] or now - rng.uniform(0, 20) * DAY,
                     agent=p["agent"] or "bob")
            await seed_archived(rt, p)
        for p in plans[:LIVE]:
            await seed_live(rt, p)

        _, sue = await ui.console(browser, base, "sue-token-12345")
        errors = ui.page_errors(sue)
        tab = sue.locator("#tab-records")
        # The first page is slow to come; Closed is chosen meanwhile and must be what is listed.
        first = True

        async def slow_first(route: Route) -> None:
            nonlocal first
            if first:
                first = False
                await asyncio.sleep(1.5)
            await route.continue_()

        await sue.route("**/api/v1/conversations?*", slow_first)
        await sue.get_by_role("tab", name="Records").click()
        await expect(sue.locator("#rec-status")).to_have_text("Loading…")
        await sue.get_by_role("button", name="Closed", exact=True).click()
        rows = sue.locator("#rec-list button.rec")
        await expect(rows).to_have_count(50)
        await expect(sue.locator("#rec-views [aria-pressed=true]")).to_have_text("Closed")
        await expect(rows.locator(".badge.state-closed")).to_have_count(50)
        await asyncio.sleep(2)  # the slow first answer (view "all") has come by now, and changed nothing
        await expect(rows.locator(".badge.state-open")).to_have_count(0)

        # Pool, channel and tag: live and archived rows that match, each once.
        await tab.get_by_label("Pool", exact=True).select_option("aftersale")
        await tab.get_by_label("Channel", exact=True).select_option("webchat")
        await tab.get_by_label("Tag", exact=True).fill("vip")
        await tab.get_by_label("Tag", exact=True).press("Enter")
        want = matching(plans, "closed", pool="aftersale", channel="webchat", tag="vip")
        assert 3 < len(want) < 50 and any(i in want for i in (p["id"] for p in plans[LIVE:]))
        await expect(rows).to_have_count(len(want))
        await expect(sue.locator("#rec-status")).to_have_text(f"{len(want)} shown")
        assert sorted(await rows.evaluate_all("bs => bs.map(b => b.dataset.id)")) == want
        await expect(rows.locator(".badge", has_text="archived")).not_to_have_count(0)

        # Recent: closed within the days chosen, the other filters still on; then without them.
        await sue.get_by_role("button", name="Recent", exact=True).click()
        await expect(tab.get_by_label("Closed within", exact=True)).to_be_visible()
        await tab.get_by_label("Closed within", exact=True).select_option("30")
        want = matching(plans, "recent", pool="aftersale", channel="webchat", tag="vip", since=now - 30 * DAY)
        await expect(rows).to_have_count(len(want))
        await sue.get_by_role("button", name="Clear filters").click()
        await expect(sue.get_by_role("button", name="Clear filters")).to_be_hidden()
        await tab.get_by_label("Closed within", exact=True).select_option("1")
        want = matching(plans, "recent", since=now - DAY)
        assert 0 < len(want) < 50
        await expect(rows).to_have_count(len(want))
        assert sorted(await rows.evaluate_all("bs => bs.map(b => b.dataset.id)")) == want
        await tab.get_by_label("Pool", exact=True).select_option("presale")
        want = matching(plans, "recent", since=now - DAY, pool="presale")
        await expect(rows).to_have_count(len(want))
        assert await sue.evaluate(ui.UNNAMED_CONTROLS) == []
        await assert_no_serious_violations(sue, "#tab-records")

        # A reload keeps the view and the filters, and lists the same.
        await sue.unroute("**/api/v1/conversations?*")
        await sue.reload()
        await expect(sue.locator("#conn")).to_have_text("online")
        await sue.get_by_role("tab", name="Records").click()
        await expect(sue.locator("#rec-views [aria-pressed=true]")).to_have_text("Recent")
        await expect(tab.get_by_label("Pool", exact=True)).to_have_value("presale")
        await expect(tab.get_by_label("Closed within", exact=True)).to_have_value("1")
        await expect(rows).to_have_count(len(want))

        # Another view drops the days, keeps the pool; an agent sees only their own.
        await sue.get_by_role("button", name="Open", exact=True).click()
        await expect(tab.get_by_label("Closed within", exact=True)).to_be_hidden()
        open_presale = matching(plans, "open", pool="presale")
        await expect(rows).to_have_count(min(50, len(open_presale)))
        assert errors == []
