"""The console's records in real Chromium: views page through hundreds of conversations (Redis
first, then the archive), search finds a closed conversation by its order number and opens it
read-only, an agent's search says it covers only their own, and the history panel shows an
archived conversation beside the live one."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
from helpers import console as ui
from helpers.app import BASIC, running
from helpers.archive import wait_archived
from helpers.clients import agent, customer, msg_id
from helpers.shots import screenshot_path
from helpers.traffic import chat, close, many
from playwright.async_api import Browser, expect

from router.config.settings import Settings, parse_settings

SEEDED = 180
"""Closed conversations: more than three console pages of 50."""
PURGED = 90
"""Of those, the oldest this many leave Redis, so the closed view pages through both stores."""


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=100).replace("worker:\n", "worker:\n  reopen_window_s: 0\n") + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 86400
  sweep_interval_s: 3600
""", "<test>")


async def test_views_page_through_hundreds_and_search_opens_a_closed_one_read_only(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    archive_url = f"sqlite:///{tmp_path}/archive.db"
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        done = await many(http, base, alice, SEEDED, 30)
        await alice.close()
        await wait_archived(rt, SEEDED)
        by_n = {int(d.lines[0][1][10:18]): d for d in done}  # 订单20241120{n:08d}…
        for n in range(PURGED):
            await rt.store.call("purge", [by_n[n].cid, time.time() + 1])
        await rt.retention.finish()
        assert not await rt.store.client.exists(rt.store.keys.conv(by_n[7].cid))

        _, sue = await ui.console(browser, base, "sue-token-12345")
        errors = ui.page_errors(sue)
        await sue.get_by_role("tab", name="Records").click()
        await expect(sue.locator("#rec-views [aria-pressed=true]")).to_have_text("All")
        await sue.get_by_role("button", name="Closed", exact=True).click()
        rows = sue.locator("#rec-list button.rec")
        await expect(rows).to_have_count(50)
        more = sue.get_by_role("button", name="Load more")
        for shown in (100, 150, SEEDED):
            await more.click()
            await expect(rows).to_have_count(shown)
        await expect(more).to_be_hidden()
        await expect(sue.locator("#rec-status")).to_have_text(f"{SEEDED} shown")
        ids = await rows.evaluate_all("bs => bs.map(b => b.dataset.id)")
        assert sorted(ids) == sorted(d.cid for d in done)  # each once, none missing

        # A word every conversation has: the first 50, and a hint to narrow it (search has no cursor).
        await sue.get_by_label("Search", exact=True).fill("发货")
        await sue.get_by_label("Search", exact=True).press("Enter")
        await expect(rows).to_have_count(50)
        await expect(sue.locator("#rec-status")).to_have_text(
            "50 found for “发货” · the newest first; add words to narrow it")
        await expect(sue.locator("#rec-views [aria-pressed=true]")).to_have_count(0)

        # Search by the order number of a conversation only the archive holds now.
        target = by_n[7]
        await sue.get_by_label("Search", exact=True).fill("2024112000000007")
        await sue.get_by_label("Search", exact=True).press("Enter")
        await expect(rows).to_have_count(1)
        await expect(sue.locator("#rec-status")).to_have_text("1 found for “2024112000000007”")
        await expect(rows.first.locator("mark")).to_have_text("2024112000000007")
        await expect(rows.first.locator(".badge.state-closed")).to_have_text("Closed")
        await rows.first.click()
        await expect(sue.locator("#rec-state")).to_have_text("Closed — read only · Resolved")
        log = sue.locator("#rec-messages .msg .body")
        await expect(log).to_have_text([text for _, text in target.lines])
        await expect(sue.locator("#rec-meta")).to_contain_text(target.cid)
        await expect(sue.locator("#rec-meta")).to_contain_text("from the archive")
        assert await sue.locator("#tab-records textarea:not(.profile-form textarea), #tab-records [type=submit][data-i18n=send]").count() == 0
        await expect(sue.locator("#reply-text")).to_be_hidden()
        await expect(sue.locator("#rec-to-inbox")).to_be_hidden()
        await sue.screenshot(path=screenshot_path("console-search.png"))
        assert await sue.evaluate(ui.UNNAMED_CONTROLS) == []

        # A phone tail finds a conversation Redis still holds; opened, it is just as read-only.
        live_closed = by_n[PURGED + 3]
        tail = live_closed.lines[0][1][-4:]
        await sue.get_by_label("Search", exact=True).fill(tail)
        await sue.get_by_label("Search", exact=True).press("Enter")
        await expect(rows.filter(has_text=tail)).not_to_have_count(0)
        await sue.locator(f"#rec-list button[data-id='{live_closed.cid}']").click()
        await expect(sue.locator("#rec-state")).to_have_text("Closed — read only · Resolved")
        await expect(log.first).to_have_text(live_closed.lines[0][1])
        assert errors == []

        # Bob is an agent who served none of them: his search and views say why they are empty.
        _, bob = await ui.console(browser, base, "bob-token-12345")
        await bob.get_by_role("tab", name="Records").click()
        await expect(bob.locator("#rec-views [aria-pressed=true]")).to_have_text("Mine")
        await expect(bob.locator("#rec-status")).to_have_text(
            "No conversations in this view. Agents see only their own conversations.")
        await bob.get_by_label("Search", exact=True).fill("2024112000000007")
        await bob.get_by_label("Search", exact=True).press("Enter")
        await expect(bob.locator("#rec-status")).to_have_text(
            "No conversation matches “2024112000000007”. Agents see only their own conversations.")
        await expect(bob.locator("#rec-list li")).to_have_count(0)
        # A link to someone else's conversation opens the reader with the refusal, and nothing of it.
        await bob.goto(f"{base}/console#records/{target.cid}")
        await expect(bob.locator("#rec-title")).to_have_text(
            "This conversation is not yours: agents see only their own.")
        await expect(bob.locator("#rec-messages .msg")).to_have_count(0)
        # The same link works for a supervisor (the reader puts it in the address).
        assert sue.url.endswith(f"#records/{live_closed.cid}")
        await sue.goto(f"{base}/console#records/{target.cid}")
        await expect(sue.locator("#rec-messages .msg .body")).to_have_text([text for _, text in target.lines])
        # And a conversation of someone else's, asked for directly, is refused.
        async with http.get(f"{base}/api/v1/conversations/{target.cid}",
                            headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 403


async def test_history_panel_shows_an_archived_conversation_beside_the_live_one(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    archive_url = f"sqlite:///{tmp_path}/archive.db"
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        old = await chat(cust, alice, ["上个月买的杯子，订单2024102000054321破损了"], ["亲，给您补发"])
        await close(alice, cust, old)
        await alice.close()
        await wait_archived(rt, 1)
        assert await rt.retention.sweep(now=time.time() + 86400 + 60) == 1  # as if a day had passed
        assert not await rt.store.client.exists(rt.store.keys.conv(old))

        _, page = await ui.console(browser, base, "alice-token-1234")
        await cust.send({"type": "message", "text": "又来了：补发的杯子到了吗", "client_msg_id": msg_id()})
        await expect(page.locator("#messages .msg.from-customer .body")).to_have_text("又来了：补发的杯子到了吗")
        past = page.locator("#history details.past")
        await expect(past).to_have_count(1)
        await expect(past).to_have_attribute("data-id", old)
        await expect(past.locator(".badge")).to_have_text("archived")
        await past.locator("summary").click()
        await expect(past.locator(".msg .body")).to_have_text(["上个月买的杯子，订单2024102000054321破损了", "亲，给您补发"])
        await past.get_by_role("button", name="Open").click()
        await expect(page.locator("#tab-records")).to_be_visible()
        await expect(page.locator("#rec-state")).to_have_text("Closed — read only · Resolved")
        await expect(page.locator("#rec-messages .msg .body")).to_have_text(
            ["上个月买的杯子，订单2024102000054321破损了", "亲，给您补发"])
        # The live one is still the agent's to answer, in the inbox.
        await page.get_by_role("tab", name="Inbox").click()
        await expect(page.locator("#reply-text")).to_be_visible()
        await cust.close()


async def test_a_supervisor_reads_an_open_conversation_then_takes_it_over(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    async with running(settings(f"sqlite:///{tmp_path}/archive.db"), redis_url) as (_rt, base), \
            aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        cid = await chat(cust, alice, ["这件大衣能开发票吗"], ["可以的亲"])

        _, sue = await ui.console(browser, base, "sue-token-12345")
        await sue.get_by_role("tab", name="Records").click()
        await sue.get_by_role("button", name="Open", exact=True).click()
        rows = sue.locator("#rec-list button.rec")
        await expect(rows).to_have_count(1)
        await expect(rows.first.locator(".badge.state-open")).to_have_text("Open")
        await rows.first.click()
        await expect(sue.locator("#rec-state")).to_have_text("Open · with alice — read only")
        await expect(sue.locator("#rec-messages .msg .body")).to_have_text(["这件大衣能开发票吗", "可以的亲"])
        await expect(sue.locator("#reply-text")).to_be_hidden()
        # Taking it over moves it to her inbox, where she can answer; alice no longer has it.
        await sue.locator("#rec-take").click()
        await expect(sue.locator("#tab-inbox")).to_be_visible()
        await expect(sue.locator("#reply-text")).to_be_visible()
        await expect(sue.locator("#messages .msg .body")).to_have_text(
            ["这件大衣能开发票吗", "可以的亲", "Sue took over this conversation"])  # the note's event, in words (issue 19)
        await alice.expect(lambda f: f["type"] == "unassigned" and f["conversation_id"] == cid)
        await cust.close()
        await alice.close()
