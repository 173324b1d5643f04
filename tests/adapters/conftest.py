"""Adapters on a private Redis, their webhooks served on loopback, their APIs faked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest
from aiohttp import web
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat, serve_app

from adapters.base import Adapter, Deps
from adapters.telegram import TelegramAdapter
from adapters.wechat import WechatAdapter
from router.pipeline.ingest import Ingestor
from router.store import Store
from router.web.app import errors
from tests.adapters.support import tg_settings, wx_settings


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


@pytest.fixture
async def wechat(store: Store, wx_api: FakeWechat) -> AsyncIterator[WechatAdapter]:
    adapter = WechatAdapter(wx_settings(wx_api), Deps(Ingestor(store), store))
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


@pytest.fixture
async def telegram(store: Store, tg_api: FakeTelegram) -> AsyncIterator[TelegramAdapter]:
    adapter = TelegramAdapter(tg_settings(tg_api), Deps(Ingestor(store), store))
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


def serve_adapter(adapter: Adapter) -> AbstractAsyncContextManager[str]:
    """Only the adapter's routes, behind the router's error middleware."""
    app = web.Application(middlewares=[errors], client_max_size=1024 * 1024)
    app.router.add_routes(adapter.routes())
    return serve_app(app)


@pytest.fixture
async def wechat_base(wechat: WechatAdapter) -> AsyncIterator[str]:
    async with serve_adapter(wechat) as base:
        yield base


@pytest.fixture
async def telegram_base(telegram: TelegramAdapter) -> AsyncIterator[str]:
    async with serve_adapter(telegram) as base:
        yield base
