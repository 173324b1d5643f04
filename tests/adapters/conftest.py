"""Adapters on a private Redis, their webhooks served on loopback, their APIs faked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from adapters.base import Adapter
from adapters.telegram import TelegramAdapter
from adapters.wechat import WechatAdapter
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat, serve_app
from router.ingest import Ingestor
from router.models import Message, decode_message
from router.settings import TelegramBotSettings, WechatAccountSettings
from router.store import Store
from router.web.app import errors

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WX_TOKEN = "wx-callback-token"
TG_SECRET = "tg-secret_123"


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    s = Store(redis_url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def wx_api() -> AsyncIterator[FakeWechat]:
    async with fake_wechat() as fake:
        yield fake


@pytest.fixture
async def tg_api() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        yield fake


def wx_settings(api: FakeWechat, account: str = "shop", aes: bool = True) -> WechatAccountSettings:
    return WechatAccountSettings(account=account, app_id=api.app_id, app_secret=api.app_secret,
                                 token=WX_TOKEN, encoding_aes_key=AES_KEY if aes else None,
                                 api_base=api.base)


def tg_settings(api: FakeTelegram, bot: str = "shopbot", mode: str = "webhook") -> TelegramBotSettings:
    return TelegramBotSettings(bot=bot, token=api.token, secret_token=TG_SECRET, mode=mode,  # type: ignore[arg-type]
                               api_base=api.base)


@pytest.fixture
async def wechat(store: Store, wx_api: FakeWechat) -> AsyncIterator[WechatAdapter]:
    adapter = WechatAdapter(wx_settings(wx_api), Ingestor(store), store)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


@pytest.fixture
async def telegram(store: Store, tg_api: FakeTelegram) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(tg_settings(tg_api), Ingestor(store), store)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


async def serve_adapter(adapter: Adapter) -> Any:
    app = web.Application(middlewares=[errors], client_max_size=1024 * 1024)
    app.router.add_routes(adapter.routes())
    return serve_app(app)


@pytest.fixture
async def wechat_base(wechat: WechatAdapter) -> AsyncIterator[str]:
    async with await serve_adapter(wechat) as base:
        yield base


@pytest.fixture
async def telegram_base(telegram: TelegramAdapter) -> AsyncIterator[str]:
    async with await serve_adapter(telegram) as base:
        yield base


async def inbound(store: Store) -> list[Message]:
    """Every message in the inbound stream, in order."""
    entries = await store.client.xrange(store.keys.inbound)
    return [decode_message(fields["m"]) for _, fields in entries]


async def snapshot(store: Store) -> tuple[int, list[str]]:
    """DBSIZE and every key: a refused request must leave both as they were."""
    return int(await store.client.dbsize()), sorted(await store.client.keys("*"))
