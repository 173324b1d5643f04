"""Item 6: an account with an AES key takes only encrypted callbacks, unless the config says
`encryption: compatible`. The probe's plaintext callback to a safe-mode account was accepted."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from helpers.fake_wechat import FakeWechat, fake_wechat, safe_body, serve_app, signed_query, text_xml

from adapters.base import Deps
from adapters.wechat import WechatAccountSettings, WechatAdapter
from adapters.wechat_crypto import MessageCrypto
from kefu_common.errors import ConfigError
from router.config.settings import parse_settings
from router.pipeline.ingest import Ingestor
from router.store import Store
from router.web.app import errors

TOKEN = "wx-safe-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
HOOK = "/webhooks/wechat/shop"


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    s = Store(redis_url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeWechat]:
    async with fake_wechat() as fake:
        yield fake


async def _serve(store: Store, api: FakeWechat, encryption: str | None) -> AsyncIterator[str]:
    cfg = WechatAccountSettings(account="shop", app_id=api.app_id, app_secret=api.app_secret, token=TOKEN,
                                encoding_aes_key=AES_KEY, encryption=encryption,  # type: ignore[arg-type]
                                api_base=api.base)
    adapter = WechatAdapter(cfg, Deps(Ingestor(store), store))
    app = web.Application(middlewares=[errors])
    app.router.add_routes(adapter.routes())
    async with serve_app(app) as base:
        yield base
    await adapter.close()


async def _post(base: str, body: str, query: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(base + HOOK, data=body.encode(), params=query) as r:
        return r.status, await r.text()


def _xml(openid: str, n: int) -> str:
    return text_xml(openid, "hello", n, int(time.time()))


@pytest.mark.parametrize("encryption", [None, "safe"])
async def test_safe_mode_refuses_plaintext_and_stores_nothing(
        store: Store, api: FakeWechat, encryption: str | None) -> None:
    async for base in _serve(store, api, encryption):
        before = (await store.client.dbsize(), sorted(await store.client.keys("*")))
        status, text = await _post(base, _xml("oInvented", 1), signed_query(TOKEN))
        assert status == 403 and "encryption_required" in text, text
        assert (await store.client.dbsize(), sorted(await store.client.keys("*"))) == before

        enc = MessageCrypto(AES_KEY, api.app_id).encrypt(_xml("oReal", 2))
        assert await _post(base, safe_body(enc), signed_query(TOKEN, enc)) == (200, "success")
        assert await store.client.xlen(store.keys.inbound) == 1


async def test_compatible_mode_is_explicit_and_takes_both(store: Store, api: FakeWechat) -> None:
    async for base in _serve(store, api, "compatible"):
        assert await _post(base, _xml("oA", 3), signed_query(TOKEN)) == (200, "success")
        enc = MessageCrypto(AES_KEY, api.app_id).encrypt(_xml("oB", 4))
        assert await _post(base, safe_body(enc), signed_query(TOKEN, enc)) == (200, "success")
        assert await store.client.xlen(store.keys.inbound) == 2


ACCOUNT = "channels:\n  wechat:\n    - account: shop\n      app_id: wx1\n      app_secret: s\n      token: t\n"


@pytest.mark.parametrize(("extra", "said"), [
    ("      encryption: safe\n", "needs encoding_aes_key"),
    ("      encryption: compatible\n", "needs encoding_aes_key"),
    (f"      encryption: plaintext\n      encoding_aes_key: {AES_KEY}\n", "say compatible"),
])
def test_encryption_settings_that_cannot_work_are_config_errors(extra: str, said: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(ACCOUNT + extra, "kefu.yaml")
    assert "kefu.yaml:7:" in str(err.value) and said in str(err.value), str(err.value)
