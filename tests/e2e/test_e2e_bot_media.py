"""The bot hands photos, videos and files to a person (reason `media`), whatever the caption asks,
and never answers them with an FAQ text; a question without a photo still gets its answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from helpers.app import running
from helpers.bot_app import bot_settings
from helpers.clients import Socket, agent
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat, media_xml, signed_query
from helpers.media_samples import jpeg, pdf

from tests.adapters.support import TG_SECRET, WX_TOKEN

CHAT = 880001
OPENID = "oBotPhoto"
SHIPPING_FAQ = "全店满99元包邮"
"""The start of the FAQ's answer to 包邮吗, which the bot gives to the words alone."""
HANDOFF = "好的，正在为您转接人工客服，请稍候。"


def channels(wx: FakeWechat, tg: FakeTelegram) -> str:
    return f"""
channels:
  wechat:
    - account: shop
      app_id: {wx.app_id}
      app_secret: {wx.app_secret}
      token: {WX_TOKEN}
      api_base: {wx.base}
  telegram:
    - bot: shopbot
      token: "{tg.token}"
      secret_token: {TG_SECRET}
      api_base: {tg.base}
"""


class Env:
    def __init__(self, base: str, http: aiohttp.ClientSession, wx: FakeWechat, tg: FakeTelegram) -> None:
        self.base, self.http, self.wx, self.tg = base, http, wx, tg

    async def telegram(self, uid: int, chat: int = CHAT, **content: Any) -> None:
        update = {"update_id": uid, "message": {
            "message_id": uid, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ivan"}, **content}}
        async with self.http.post(f"{self.base}/webhooks/telegram/shopbot", json=update,
                                  headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
            assert r.status == 200


@pytest.fixture
async def env(redis_url: str, tmp_path: Path) -> AsyncIterator[Env]:
    async with fake_wechat() as wx, fake_telegram() as tg:
        settings = bot_settings(tmp_path, channels(wx, tg), cap=50)
        async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
            yield Env(base, http, wx, tg)


def bot_said(tg: FakeTelegram, chat: int) -> list[str]:
    return tg.sent_to(chat)


async def handed(sock: Socket, channel: str) -> dict[str, Any]:
    return await sock.expect(lambda f: f["type"] == "assigned" and f["conversation"]["channel"] == channel,
                             timeout=20)


async def test_a_captioned_photo_goes_to_a_person_not_the_faq(env: Env) -> None:
    sue = await agent(env.http, env.base, "alice-token-1234")  # presale, where the rules send it
    fid = env.tg.add_file(jpeg(seed=30), "photos/seam.jpg")
    await env.telegram(1, photo=[{"file_id": fid, "width": 320, "height": 240}], caption="这件包邮吗")
    conv = await handed(sue, "telegram")
    assert conv["conversation"]["bot"]["reason"] == "media"
    [note] = [m for m in conv["messages"] if m.get("note")]
    assert "media" in note["text"] and "客户附言: 这件包邮吗" in note["text"]
    # The handoff words go out through the outbox, which may reach the channel after the agent
    # was told: wait for them, then check they are all the bot said.
    deadline = time.monotonic() + 20
    while not bot_said(env.tg, CHAT) and time.monotonic() < deadline:
        await _tick()
    said = bot_said(env.tg, CHAT)
    assert said == [HANDOFF]
    assert not any(SHIPPING_FAQ in s for s in said)
    # The photo itself reaches the agent (in the transcript, or in a media frame right after).
    photo_line = next(m for m in conv["messages"] if m["kind"] == "image")
    if "media" not in photo_line:
        await sue.expect(lambda f: f["type"] == "media" and f["message_id"] == photo_line["id"], timeout=20)
    await sue.close()


async def test_the_same_words_without_a_photo_get_the_faq(env: Env) -> None:
    await env.telegram(2, chat=CHAT + 1, text="这件包邮吗")
    deadline = time.monotonic() + 20
    while not any(SHIPPING_FAQ in s for s in bot_said(env.tg, CHAT + 1)) and time.monotonic() < deadline:
        await _tick()
    assert any(SHIPPING_FAQ in s for s in bot_said(env.tg, CHAT + 1)), bot_said(env.tg, CHAT + 1)


async def test_photos_files_and_videos_from_many_customers_all_go_to_people(env: Env) -> None:
    """Forty customers, each sending a photo or a file on WeChat or Telegram: every one is handed
    over with reason media and the bot answers none of them with an FAQ text."""
    alice = await agent(env.http, env.base, "alice-token-1234")
    sue = await agent(env.http, env.base, "sue-token-12345")
    for i in range(20):
        fid = env.tg.add_file(pdf() if i % 2 else jpeg(seed=40 + i), f"docs/{i}")
        field = {"document": {"file_id": fid, "file_name": "receipt.pdf"}} if i % 2 else {
            "photo": [{"file_id": fid, "width": 320, "height": 240}]}
        await env.telegram(100 + i, chat=CHAT + 100 + i, caption="包邮吗", **field)
        media_id = env.wx.add_media(jpeg(seed=80 + i), "image/jpeg")
        async with env.http.post(f"{env.base}/webhooks/wechat/shop", params=signed_query(WX_TOKEN),
                                 data=media_xml(f"{OPENID}{i}", "image", media_id, 9_100_000 + i).encode()) as r:
            assert r.status == 200
    frames = await _assigned_count(alice, sue, 40)
    assert {f["conversation"]["bot"]["reason"] for f in frames} == {"media"}
    texts = [m["text"] for m in env.tg.sent]
    assert texts and set(texts) == {HANDOFF}  # never the shipping FAQ
    await alice.close()
    await sue.close()


async def _assigned_count(a: Socket, b: Socket, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        frames = a.of("assigned") + b.of("assigned")
        if len(frames) >= n:
            return frames
        await _tick()
    raise AssertionError(f"{len(a.of('assigned') + b.of('assigned'))} of {n} conversations handed over")


async def _tick() -> None:
    await asyncio.sleep(0.1)
