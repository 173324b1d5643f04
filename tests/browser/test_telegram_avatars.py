"""Telegram customers' avatars (issue 19, item 12): the real python-telegram-bot asks the fake Bot
API on loopback for each new customer's profile photo (getUserProfilePhotos, getFile, the
download), the smallest size of at least 64 px is kept in the media store, owned by the customer,
and the console shows it from our media URL, beside the name, as it does WeChat's. No page and
no request of the browser carries the bot token, which Telegram's file URLs contain. 200
customers write; each is asked about once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
from helpers.app import running
from helpers.axe import assert_no_serious_violations
from helpers.console import console
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.images import jpeg
from playwright.async_api import Browser, Request, expect

from router.config.settings import parse_settings
from router.runtime import Runtime
from tests.adapters.support import TG_SECRET

TOKEN = "7741:AAH-bot-token-never-in-a-page"
# One agent takes the first hundred chats; the rest wait in the queue.
CONFIG = """
pools:
  - id: presale
agents:
  - id: bob
    name: Bob
    token: bob-token-12345
    pools: [presale]
    max_chats: 100
worker:
  claim_idle_ms: 1000
channels:
  telegram:
    - bot: shopbot
      token: "{token}"
      secret_token: {secret}
      api_base: {base}
"""
CUSTOMERS = 200
NO_PHOTO = 9999  # one customer has no profile photo: no avatar, nothing broken


def update(n: int, user: int, text: str) -> dict[str, Any]:
    return {"update_id": 10_000 + n, "message": {
        "message_id": 10_000 + n, "date": int(time.time()), "chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": False, "first_name": f"Ivan{user}", "last_name": "Petrov"}, "text": text}}


async def until(pred: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (got := await pred()):
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.1)
    return got


async def avatars(rt: Runtime, users: list[int]) -> dict[int, str]:
    out = {}
    for user in users:
        cust = await rt.store.customers.by_identity("telegram", "shopbot", str(user))
        found = await rt.store.customer(cust) if cust else None
        if found and found.get("avatar"):
            out[user] = str(found["avatar"])
    return out


async def test_telegram_avatars_come_from_our_media_store_never_with_the_token(
        redis_url: str, browser: Browser, tmp_path: Path) -> None:
    tg: FakeTelegram
    async with fake_telegram(token=TOKEN) as tg:
        users = [5_000 + i for i in range(CUSTOMERS)]
        for i, user in enumerate(users):  # three sizes each; a different colour per customer
            colour = (40 + i % 200, 90, 200 - i % 150)
            tg.add_profile_photo(user, [(w, w, jpeg(w, w, gps=False, color=colour)) for w in (48, 96, 640)])
        text = CONFIG.format(token=TOKEN, secret=TG_SECRET, base=tg.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), aiohttp.ClientSession() as http:
            gate = asyncio.Semaphore(10)

            async def write(n: int, user: int) -> None:
                for _ in range(20):  # a busy router answers 503 and Telegram posts the update again
                    async with gate, http.post(f"{base}/webhooks/telegram/shopbot", json=update(n, user, f"在吗 {n}"),
                                               headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
                        if r.status != 503:
                            assert r.status == 200
                            return
                    await asyncio.sleep(0.5)
                raise AssertionError(f"update {n} refused 20 times")

            order = [NO_PHOTO, *users]  # the first two reach Bob for sure; the rest as they come
            await write(0, order[0])
            await write(1, order[1])
            await asyncio.gather(*(write(n, u) for n, u in enumerate(order) if n > 1))
            got = await until(lambda: _all(rt, users))
            assert set(got) == set(users) and NO_PHOTO not in got
            assert all(a.startswith("/api/v1/media/md_") and TOKEN not in a for a in got.values())
            assert len(set(got.values())) == CUSTOMERS  # each customer their own picture
            asked = [p["user_id"] for name, p in tg.calls if name == "getUserProfilePhotos"]
            assert sorted(asked) == sorted([*users, NO_PHOTO])  # once each
            # The size kept: the smallest of at least 64 px.
            ref = await rt.media.ref(got[users[0]].rsplit("/", 1)[1])
            assert ref is not None and (ref.width, ref.height) == (96, 96)
            assert ref.conversation == f"avatar.{await rt.store.customers.by_identity('telegram', 'shopbot', '5000')}"
            # Without a credential, nobody reads it; a second message asks Telegram no more.
            async with http.get(f"{base}{got[users[0]]}") as r:
                assert r.status == 401
            await write(CUSTOMERS + 2, users[0])
            await asyncio.sleep(0.5)
            assert [p["user_id"] for name, p in tg.calls if name == "getUserProfilePhotos"].count(users[0]) == 1

            ctx, page = await console(browser, base, "bob-token-12345")
            seen: list[str] = []

            def on_request(req: Request) -> None:
                seen.append(req.url)
            page.on("request", on_request)
            await page.reload()
            await expect(page.locator("#conn")).to_have_text("online")
            rows = page.locator("#convs .conv")
            await expect(rows).to_have_count(100, timeout=30000)
            # Every chat in the list shows its customer's picture, but the one without a photo.
            await expect(page.locator("#convs .conv img.avatar")).to_have_count(99, timeout=30000)
            row = page.locator("#convs .conv", has_text=f"Ivan{users[0]} Petrov")
            await row.click()
            head = page.locator("#conv-title img.avatar")
            await expect(head).to_have_attribute("src", got[users[0]])
            panel = page.locator("img.avatar:not(.small)")
            await expect(panel).to_have_attribute("src", got[users[0]], timeout=20000)  # the side panel's fetch
            await expect(panel).to_have_accessible_name("Avatar")
            for img in (head, panel):  # loaded, at the size kept
                await until(lambda img=img: img.evaluate("i => i.complete && i.naturalWidth === 96"), 10)
            await assert_no_serious_violations(page)
            # The customer without a photo: a name and no broken image.
            await page.locator("#convs .conv", has_text=f"Ivan{NO_PHOTO} Petrov").click()
            await expect(page.locator("#conv-title img")).to_have_count(0)
            assert TOKEN not in await page.content()
            assert [u for u in seen if TOKEN in u or u.startswith(tg.base)] == []
            assert any(u.startswith(f"{base}/api/v1/media/md_") for u in seen)
            await ctx.close()


async def _all(rt: Runtime, users: list[int]) -> dict[int, str] | None:
    got = await avatars(rt, users)
    return got if len(got) == len(users) else None
