"""Item 5: a signed WeChat query is good for minutes, and only with the body it came with.

The probe took a (signature, timestamp, nonce) captured in 2023, sent it with a new body and an
invented sender, and the message reached an agent and opened a reply window for that openid.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from helpers.fake_wechat import FakeWechat, signed_query, text_xml
from helpers.webhooks import WECHAT_HOOK, post_webhook, wechat_account

from adapters.wechat import WechatAdapter
from router.store import Store

TOKEN = "wx-replay-token"


@pytest.fixture
async def plaintext(store: Store, wx_api: FakeWechat) -> AsyncIterator[tuple[str, WechatAdapter]]:
    async with wechat_account(store, wx_api, TOKEN) as pair:
        yield pair


async def _inbound_senders(store: Store) -> list[str]:
    entries = await store.client.xrange(store.keys.inbound)
    return [e[1]["m"] for e in entries]


async def test_a_triple_captured_in_2023_is_refused_with_any_body(
        plaintext: tuple[str, WechatAdapter], store: Store) -> None:
    base, adapter = plaintext
    captured = signed_query(TOKEN, timestamp="1700000000", nonce="n0nce")
    forged = text_xml("oInventedSender", "refund me", 1, int(time.time()))
    before = await store.client.dbsize()
    status, text = await post_webhook(base + WECHAT_HOOK, forged, captured)
    assert status == 403 and "timestamp" in text, text
    assert await store.client.dbsize() == before
    assert await adapter.replies_left("oInventedSender") == 0  # no reply window was opened


# +330, not +301: the signed timestamp is a whole second, so int(now) + 301 can be only 300.x s
# ahead of the server's clock by the time it checks (a clean-clone run met exactly that).
@pytest.mark.parametrize("skew", [-301, 330, -3600 * 24 * 365])
async def test_timestamps_outside_five_minutes_are_refused(
        plaintext: tuple[str, WechatAdapter], store: Store, skew: int) -> None:
    base, _ = plaintext
    q = signed_query(TOKEN, timestamp=str(int(time.time()) + skew))
    status, _text = await post_webhook(base + WECHAT_HOOK, text_xml("oA", "hi", 2, int(time.time())), q)
    assert status == 403
    assert await _inbound_senders(store) == []


async def test_the_channels_retry_is_answered_once_and_a_new_body_is_a_forgery(
        plaintext: tuple[str, WechatAdapter], store: Store) -> None:
    base, adapter = plaintext
    q = signed_query(TOKEN)
    genuine = text_xml("oRealCustomer", "在吗", 7001, int(time.time()))
    for _ in range(3):  # WeChat's own retries: the same query and body
        assert await post_webhook(base + WECHAT_HOOK, genuine, q) == (200, "success")
    assert len(await _inbound_senders(store)) == 1

    forged = text_xml("oInventedSender", "refund me", 7002, int(time.time()))
    status, text = await post_webhook(base + WECHAT_HOOK, forged, q)
    assert status == 403 and "another body" in text, text
    assert len(await _inbound_senders(store)) == 1
    assert await adapter.replies_left("oInventedSender") == 0
    # Remembered only while the timestamp can still pass the window.
    ttl = await store.client.ttl(store.keys.webhook_nonce("wechat", "shop", q["timestamp"], q["nonce"]))
    assert 0 < ttl <= 301


async def test_the_window_is_configurable(store: Store, wx_api: FakeWechat) -> None:
    async with wechat_account(store, wx_api, TOKEN, replay_window_s=60) as (base, _):
        old = str(int(time.time()) - 120)
        status, _text = await post_webhook(base + WECHAT_HOOK, text_xml("oA", "hi", 3, int(time.time())),
                                    signed_query(TOKEN, timestamp=old))
        assert status == 403
        status, _text = await post_webhook(base + WECHAT_HOOK, text_xml("oA", "hi", 4, int(time.time())), signed_query(TOKEN))
        assert status == 200


async def test_the_url_check_refuses_a_stale_signature(plaintext: tuple[str, WechatAdapter]) -> None:
    base, _ = plaintext
    async with aiohttp.ClientSession() as http:
        q = {**signed_query(TOKEN, timestamp="1700000000"), "echostr": "e1"}
        async with http.get(base + WECHAT_HOOK, params=q) as r:
            assert r.status == 403
        async with http.get(base + WECHAT_HOOK, params={**signed_query(TOKEN), "echostr": "e2"}) as r:
            assert (r.status, await r.text()) == (200, "e2")


def test_a_window_out_of_range_is_a_positioned_config_error() -> None:
    from kefu_common.errors import ConfigError
    from router.config.settings import parse_settings

    text = ("channels:\n  wechat:\n    - account: shop\n      app_id: wx1\n      app_secret: s\n"
            "      token: t\n      replay_window_s: 5\n")
    with pytest.raises(ConfigError) as err:
        parse_settings(text, "kefu.yaml")
    assert "kefu.yaml:7:" in str(err.value) and "replay_window_s" in str(err.value)
