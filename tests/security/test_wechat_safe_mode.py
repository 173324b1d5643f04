"""Item 6: an account with an AES key takes only encrypted callbacks, unless the config says
`encryption: compatible`. The probe's plaintext callback to a safe-mode account was accepted."""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager

import pytest
from helpers.fake_wechat import FakeWechat, safe_body, signed_query, text_xml
from helpers.webhooks import WECHAT_HOOK, post_webhook, wechat_account

from adapters.wechat import WechatAdapter
from adapters.wechat_crypto import MessageCrypto
from kefu_common.errors import ConfigError
from router.config.settings import parse_settings
from router.store import Store

TOKEN = "wx-safe-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def _serve(store: Store, wx_api: FakeWechat, encryption: str | None) -> AbstractAsyncContextManager[tuple[str, WechatAdapter]]:
    return wechat_account(store, wx_api, TOKEN, encoding_aes_key=AES_KEY, encryption=encryption)


def _xml(openid: str, n: int) -> str:
    return text_xml(openid, "hello", n, int(time.time()))


@pytest.mark.parametrize("encryption", [None, "safe"])
async def test_safe_mode_refuses_plaintext_and_stores_nothing(
        store: Store, wx_api: FakeWechat, encryption: str | None) -> None:
    async with _serve(store, wx_api, encryption) as (base, _):
        before = (await store.client.dbsize(), sorted(await store.client.keys("*")))
        status, text = await post_webhook(base + WECHAT_HOOK, _xml("oInvented", 1), signed_query(TOKEN))
        assert status == 403 and "encryption_required" in text, text
        assert (await store.client.dbsize(), sorted(await store.client.keys("*"))) == before

        enc = MessageCrypto(AES_KEY, wx_api.app_id).encrypt(_xml("oReal", 2))
        assert await post_webhook(base + WECHAT_HOOK, safe_body(enc), signed_query(TOKEN, enc)) == (200, "success")
        assert await store.client.xlen(store.keys.inbound) == 1


async def test_compatible_mode_is_explicit_and_takes_both(store: Store, wx_api: FakeWechat) -> None:
    async with _serve(store, wx_api, "compatible") as (base, _):
        assert await post_webhook(base + WECHAT_HOOK, _xml("oA", 3), signed_query(TOKEN)) == (200, "success")
        enc = MessageCrypto(AES_KEY, wx_api.app_id).encrypt(_xml("oB", 4))
        assert await post_webhook(base + WECHAT_HOOK, safe_body(enc), signed_query(TOKEN, enc)) == (200, "success")
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
