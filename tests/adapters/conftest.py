"""Adapters on a private Redis, their webhooks served on loopback, their APIs faked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.fake_wechat import FakeWechat
from helpers.fake_wecom import FakeWecom, fake_wecom
from helpers.webhooks import serve_adapter

from adapters.base import Deps
from adapters.telegram import TelegramAdapter
from adapters.wechat import WechatAdapter
from router.pipeline.ingest import Ingestor
from router.store import Store
from tests.adapters.support import tg_settings, wx_settings

# `store` (the router's store on a private Redis) and `wx_api` come from tests/conftest.py.


@pytest.fixture
async def wc_api() -> AsyncIterator[FakeWecom]:
    async with fake_wecom() as fake:
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


@pytest.fixture
async def wechat_base(wechat: WechatAdapter) -> AsyncIterator[str]:
    async with serve_adapter(wechat) as base:
        yield base


@pytest.fixture
async def telegram_base(telegram: TelegramAdapter) -> AsyncIterator[str]:
    async with serve_adapter(telegram) as base:
        yield base
