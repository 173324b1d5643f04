"""One channel adapter's webhooks on loopback, as the adapter and security tests drive them:
only its routes, behind the router's error middleware, with its channel API faked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import aiohttp
from aiohttp import web

from adapters.base import Adapter, Deps
from adapters.wechat import WechatAccountSettings, WechatAdapter
from helpers.fake_wechat import FakeWechat, serve_app
from router.pipeline.ingest import Ingestor
from router.store import Store
from router.web.app import errors

WECHAT_HOOK = "/webhooks/wechat/shop"
"""The webhook path of the account `wechat_account` makes."""


def serve_adapter(adapter: Adapter) -> AbstractAsyncContextManager[str]:
    """Only the adapter's routes, behind the router's error middleware; yields the base URL."""
    app = web.Application(middlewares=[errors], client_max_size=1024 * 1024)
    app.router.add_routes(adapter.routes())
    return serve_app(app)


@asynccontextmanager
async def wechat_account(store: Store, api: FakeWechat, token: str,
                         **extra: object) -> AsyncIterator[tuple[str, WechatAdapter]]:
    """The account 'shop' against the fake WeChat API, served; `extra` are its other settings."""
    cfg = WechatAccountSettings(account="shop", app_id=api.app_id, app_secret=api.app_secret, token=token,
                                api_base=api.base, **extra)  # type: ignore[arg-type]
    adapter = WechatAdapter(cfg, Deps(Ingestor(store), store))
    try:
        async with serve_adapter(adapter) as base:
            yield base, adapter
    finally:
        await adapter.close()


async def post_webhook(url: str, body: str, query: dict[str, str]) -> tuple[int, str]:
    """POST a raw callback body with its signed query; the status and the answer's text."""
    async with aiohttp.ClientSession() as http, http.post(url, data=body.encode(), params=query) as r:
        return r.status, await r.text()
