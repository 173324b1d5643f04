"""A Telegram customer's picture follows their profile photo (issue 19, item 12): the real
python-telegram-bot against the fake Bot API; a new photo replaces the kept one, the old file
leaves the media store, and the picture is served only to staff who may see the customer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.fake_telegram import fake_telegram
from helpers.images import jpeg

from router.config.settings import parse_settings
from router.runtime import Runtime
from tests.adapters.support import TG_SECRET

CHANNEL = """
channels:
  telegram:
    - bot: shopbot
      token: "{token}"
      secret_token: {secret}
      api_base: {base}
"""
USER = 4242


async def avatar(rt: Runtime) -> str:
    cust = await rt.store.customers.by_identity("telegram", "shopbot", str(USER))
    return str((await rt.store.customer(cust) or {}).get("avatar") or "") if cust else ""


async def until_changed(rt: Runtime, before: str) -> str:
    deadline = time.monotonic() + 20
    while (now := await avatar(rt)) == before:
        assert time.monotonic() < deadline, "the avatar did not change"
        await asyncio.sleep(0.05)
    return now


async def test_a_new_profile_photo_replaces_the_kept_one(redis_url: str) -> None:
    async with fake_telegram(token="8800:bot-token-secret") as tg:
        tg.add_profile_photo(USER, [(160, 160, jpeg(160, 160, gps=False, color=(10, 120, 30)))])
        text = BASIC.format(cap=5) + CHANNEL.format(token=tg.token, secret=TG_SECRET, base=tg.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), aiohttp.ClientSession() as http:
            async def say(n: int) -> None:
                update: dict[str, Any] = {"update_id": n, "message": {
                    "message_id": n, "date": int(time.time()), "chat": {"id": USER, "type": "private"},
                    "from": {"id": USER, "is_bot": False, "first_name": "Olga"}, "text": f"hi {n}"}}
                async with http.post(f"{base}/webhooks/telegram/shopbot", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
                    assert r.status == 200

            await say(1)
            first = await until_changed(rt, "")
            first_id = first.rsplit("/", 1)[1]
            ref = await rt.media.ref(first_id)
            assert ref is not None and (ref.width, ref.height, ref.mime) == (160, 160, "image/jpeg")
            async with http.get(f"{base}{first}", headers={"Authorization": "Bearer sue-token-12345"}) as r:
                assert r.status == 200 and r.content_type == "image/jpeg"
            async with http.get(f"{base}{first}") as r:
                assert r.status == 401

            # The customer changes their photo; the next day's look-up (here: forced) keeps the new one.
            tg.add_profile_photo(USER, [(64, 64, jpeg(64, 64, gps=False, color=(200, 20, 20))),
                                        (320, 320, jpeg(320, 320, gps=False, color=(200, 20, 20)))])
            await rt.store.client.delete(rt.store.keys.profile_asked(f"telegram:shopbot:{USER}"))
            rt.profile_fetcher._asked.clear()
            await say(2)
            second = await until_changed(rt, first)
            new = await rt.media.ref(second.rsplit("/", 1)[1])
            assert new is not None and (new.width, new.height) == (64, 64)  # 64 px is enough
            deadline = time.monotonic() + 10
            while await rt.media.ref(first_id) is not None:
                assert time.monotonic() < deadline, "the replaced picture was kept"
                await asyncio.sleep(0.05)
            async with http.get(f"{base}{first}", headers={"Authorization": "Bearer sue-token-12345"}) as r:
                assert r.status == 404
