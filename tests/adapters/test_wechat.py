"""The WeChat adapter: callbacks in every mode, hostile bodies, the token, errors and the quota."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web
from helpers.fake_wechat import FakeWechat, event_xml, safe_body, serve_app, signed_query, text_xml

from adapters import wechat_api
from adapters.base import Deps
from adapters.wechat import QUOTA, WechatAdapter
from adapters.wechat_crypto import MessageCrypto
from kefu_common.errors import PermanentChannelError, RetryableChannelError
from router.models import Channel, Kind, Reply
from router.pipeline.ingest import Ingestor
from router.store import Store
from router.store.channels import WechatRecords
from router.web.app import errors
from tests.adapters.support import AES_KEY, WX_TOKEN, inbound, snapshot, wx_settings

OPENID = "oCustomer123"


def reply(text: str = "您好，已发货", chat: str = OPENID, rid: str = "r1") -> Reply:
    return Reply(id=rid, conversation_id="c1", customer_id="cu1", channel=Channel("wechat"),
                 account="shop", chat=chat, text=text, author="alice")


async def post(base: str, body: str | bytes, query: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(
            f"{base}/webhooks/wechat/shop", params=query,
            data=body.encode() if isinstance(body, str) else body) as r:
        return r.status, await r.text()


def encrypt(xml: str) -> str:
    return MessageCrypto(AES_KEY, "wxfake").encrypt(xml)


# -- inbound ----------------------------------------------------------------------------------
async def test_handshake_echoes_with_a_good_signature(wechat_base: str) -> None:
    q = {**signed_query(WX_TOKEN), "echostr": "12345"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{wechat_base}/webhooks/wechat/shop", params=q) as r:
            assert (r.status, await r.text()) == (200, "12345")
        async with http.get(f"{wechat_base}/webhooks/wechat/shop", params={**q, "signature": "0" * 40}) as r:
            assert r.status == 403


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
async def test_each_mode_is_accepted_once_and_answered_success(
        mode: str, wechat_base: str, store: Store) -> None:
    xml = text_xml(OPENID, "这件有M码吗？", 6054768590064713728)
    if mode == "plaintext":
        body, q = xml, signed_query(WX_TOKEN)
    else:
        enc = encrypt(xml)
        body = xml.replace("</xml>", f"<Encrypt><![CDATA[{enc}]]></Encrypt></xml>") \
            if mode == "compatible" else safe_body(enc)
        q = signed_query(WX_TOKEN, enc)
    for _ in range(3):  # WeChat retries three times when it gets no answer in 5 s
        assert await post(wechat_base, body, q) == (200, "success")
    msgs = await inbound(store)
    assert len(msgs) == 1
    m = msgs[0]
    assert (m.kind, m.text, m.sender_ref, m.native_id) == (Kind.TEXT, "这件有M码吗？", OPENID, "6054768590064713728")


@pytest.mark.parametrize(("xml", "kind", "text", "media"), [
    ("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType>"
     "<PicUrl>http://x/p.jpg</PicUrl><MediaId>MID1</MediaId><MsgId>11</MsgId></xml>", Kind.IMAGE, "", "MID1"),
    ("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>voice</MsgType>"
     "<MediaId>MID2</MediaId><Format>amr</Format><Recognition>你好</Recognition><MsgId>12</MsgId></xml>",
     Kind.VOICE, "你好", "MID2"),
    ("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>video</MsgType>"
     "<MediaId>MID3</MediaId><ThumbMediaId>T</ThumbMediaId><MsgId>13</MsgId></xml>", Kind.VIDEO, "", "MID3"),
    ("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>shortvideo</MsgType>"
     "<MediaId>MID4</MediaId><ThumbMediaId>T</ThumbMediaId><MsgId>14</MsgId></xml>", Kind.VIDEO, "", "MID4"),
    ("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType>"
     "<Location_X>23.1</Location_X><Location_Y>113.3</Location_Y><Scale>20</Scale>"
     "<Label>广州</Label><MsgId>15</MsgId></xml>", Kind.LOCATION, "广州 (23.1, 113.3)", None),
    ("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>link</MsgType>"
     "<Title>T</Title><Description>D</Description><Url>http://x</Url><MsgId>16</MsgId></xml>",
     Kind.LINK, "T\nhttp://x", None),
    ("<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>hologram</MsgType>"
     "<Beam>1</Beam><MsgId>17</MsgId></xml>", Kind.UNKNOWN, "[hologram]", None),
])
def test_parse_normalises_every_type(wechat: WechatAdapter, xml: str, kind: Kind, text: str,
                                     media: str | None) -> None:
    [m] = wechat.parse(xml.encode())
    assert (m.kind, m.text, m.native_media) == (kind, text, media)
    assert m.raw is not None and m.raw["FromUserName"] == "u"


@pytest.mark.parametrize(("event", "key", "text"), [
    ("subscribe", "", "[subscribe]"), ("unsubscribe", "", "[unsubscribe]"),
    ("CLICK", "MENU_ORDERS", "[click: MENU_ORDERS]"), ("SCAN", "42", "[scan: 42]"),
    ("subscribe", "qrscene_7", "[subscribe_scan: 7]"),
])
def test_events_are_deduped_by_sender_and_time(wechat: WechatAdapter, event: str, key: str, text: str) -> None:
    [m] = wechat.parse(event_xml(OPENID, event, 1_700_000_123, key).encode())
    assert (m.kind, m.text, m.native_id) == (Kind.EVENT, text, f"{OPENID}:1700000123")


def test_unknown_event_is_kept(wechat: WechatAdapter) -> None:
    [m] = wechat.parse(event_xml(OPENID, "VIEW", key="http://shop").encode())
    assert m.kind is Kind.UNKNOWN and m.raw and m.raw["Event"] == "VIEW"


XXE = """<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<xml><FromUserName>&x;</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>
<Content>hi</Content><MsgId>1</MsgId></xml>"""
LAUGHS = """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>
<Content>&lol4;</Content><MsgId>2</MsgId></xml>"""


def _hostile() -> list[tuple[str, str | bytes, dict[str, str], int]]:
    good = text_xml(OPENID, "hi", 99)
    enc = encrypt(good)
    bad_sig = {**signed_query(WX_TOKEN), "signature": "f" * 40}
    bad_msg_sig = {**signed_query(WX_TOKEN, enc), "msg_signature": "0" * 40}
    garbage = "A" * 64
    enc_xxe = encrypt(XXE)
    other = MessageCrypto(AES_KEY, "wxother").encrypt(good)
    return [
        ("xxe", XXE, signed_query(WX_TOKEN), 400),
        ("billion laughs", LAUGHS, signed_query(WX_TOKEN), 400),
        ("encrypted xxe", safe_body(enc_xxe), signed_query(WX_TOKEN, enc_xxe), 400),
        ("bad signature", good, bad_sig, 403),
        ("no signature", good, {}, 403),
        ("bad msg_signature", safe_body(enc), bad_msg_sig, 403),
        ("bad AES payload", safe_body(garbage), signed_query(WX_TOKEN, garbage), 400),
        ("another app's payload", safe_body(other), signed_query(WX_TOKEN, other), 400),
        ("too large", good.replace("hi", "x" * 70_000), signed_query(WX_TOKEN), 413),
        ("not xml", "hello", signed_query(WX_TOKEN), 400),
        ("no sender", "<xml><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>", signed_query(WX_TOKEN), 400),
    ]


# Parametrised by name only: the bodies are signed when the test runs, since a signature made at
# collection would be older than the replay window by the time a long parallel run reaches it.
@pytest.mark.parametrize("name", [h[0] for h in _hostile()])
async def test_hostile_bodies_are_refused_and_leave_no_trace(name: str, wechat_base: str, store: Store) -> None:
    _, body, query, status = next(h for h in _hostile() if h[0] == name)
    before = await snapshot(store)
    got, text = await post(wechat_base, body, query)
    assert got == status, text
    assert "error" in text
    assert await snapshot(store) == before


# -- outbound ---------------------------------------------------------------------------------
async def test_send_uses_one_token_and_utf8_json(wechat: WechatAdapter, wx_api: FakeWechat) -> None:
    await wechat.open_window(OPENID)
    await wechat.send(reply("您好，已发货"))
    await wechat.send(reply("还有问题吗", rid="r2"))
    assert [s["text"]["content"] for s in wx_api.sent] == ["您好，已发货", "还有问题吗"]
    assert wx_api.sent[0]["touser"] == OPENID and wx_api.sent[0]["msgtype"] == "text"
    assert "您好".encode() in wx_api.raw_bodies[0]  # ensure_ascii=False: no \\u escapes
    assert wx_api.token_calls == 1


async def test_expired_token_is_refreshed_once(wechat: WechatAdapter, wx_api: FakeWechat) -> None:
    await wechat.open_window(OPENID)
    await wechat.send(reply())
    wx_api.script = [42001]
    await wechat.send(reply(rid="r2"))
    assert wx_api.token_calls == 2 and len(wx_api.sent) == 2
    wx_api.expire_tokens()
    wx_api.script = [0]
    await wechat.send(reply(rid="r3"))  # 40001 from the fake, then a fresh token
    assert wx_api.token_calls == 3 and len(wx_api.sent) == 3


async def test_processes_share_one_token_refreshed_in_one_place(
        store: Store, wx_api: FakeWechat) -> None:
    wx_api.token_delay_s = 0.2
    adapters = [WechatAdapter(wx_settings(wx_api), Deps(Ingestor(store), store)) for _ in range(4)]
    try:
        await adapters[0].open_window(OPENID)
        await adapters[0].open_window("o2")
        await asyncio.gather(*(a.send(reply(chat=OPENID if i % 2 else "o2", rid=f"r{i}"))
                               for i, a in enumerate(adapters)))
        assert wx_api.token_calls == 1 and len(wx_api.sent) == 4
    finally:
        for a in adapters:
            await a.close()


class LateToLock(WechatRecords):
    """A process's token records that reach for the refresh lock only once the holder has let go:
    the gap between looking for a token and taking the lock, as load stretches it."""

    def __init__(self, store: Store, reaching: asyncio.Event) -> None:
        super().__init__(store.client, store.keys)
        self._store, self._reaching = store, reaching

    async def lock(self, account: str, holder: str, lease_ms: int) -> bool:
        self._reaching.set()
        for _ in range(200):  # bounded: 10 s
            if not await self._store.client.exists(self._store.keys.wechat_token_lock(account)):
                break
            await asyncio.sleep(0.05)
        return await super().lock(account, holder, lease_ms)


async def test_a_token_stored_while_another_reached_for_the_lock_is_used(
        store: Store, wx_api: FakeWechat) -> None:
    """B sees no token; A stores one and lets go of the lock; only then does B take the lock.
    B must use A's token, not fetch another (which at WeChat retires A's)."""
    wx_api.hold_tokens = asyncio.Event()
    a, b = (WechatAdapter(wx_settings(wx_api), Deps(Ingestor(store), store)) for _ in range(2))
    reaching = asyncio.Event()
    b.api.records = LateToLock(store, reaching)
    try:
        await a.open_window(OPENID)
        first = asyncio.create_task(a.send(reply()))
        for _ in range(200):  # bounded: until A holds the lock and waits for WeChat's answer
            if wx_api.token_calls:
                break
            await asyncio.sleep(0.05)
        second = asyncio.create_task(b.send(reply(rid="r2")))
        await asyncio.wait_for(reaching.wait(), 10)  # B has seen no token and reaches for the lock
        wx_api.hold_tokens.set()
        await asyncio.wait_for(asyncio.gather(first, second), 10)
        assert wx_api.token_calls == 1 and len(wx_api.sent) == 2
    finally:
        for adapter in (a, b):
            await adapter.close()


@pytest.mark.parametrize(("code", "kind", "reason", "retry_after"), [
    (-1, RetryableChannelError, "busy", None),
    (45009, RetryableChannelError, "quota", 300.0),
    (45011, RetryableChannelError, "quota", 60.0),
    (45015, PermanentChannelError, "48-hour reply window has closed", None),
    (45047, PermanentChannelError, "without an answer", None),
    (40003, PermanentChannelError, "does not know this customer", None),
    (48001, PermanentChannelError, "not authorised", None),
])
async def test_send_errors(wechat: WechatAdapter, wx_api: FakeWechat, code: int, kind: type[Exception],
                           reason: str, retry_after: float | None) -> None:
    await wechat.open_window(OPENID)
    wx_api.script = [code]
    with pytest.raises(kind, match=reason) as info:
        await wechat.send(reply())
    if retry_after is not None:
        assert isinstance(info.value, RetryableChannelError) and info.value.retry_after == retry_after
    assert getattr(info.value, "code", None) == code
    if kind is RetryableChannelError:
        assert await wechat.replies_left(OPENID) == QUOTA  # a failed try costs no quota


@pytest.mark.parametrize(("code", "left"), [(45015, 0), (45047, 0), (40003, QUOTA)])
async def test_quota_follows_the_error_code_not_its_words(wechat: WechatAdapter, wx_api: FakeWechat,
                                                          monkeypatch: pytest.MonkeyPatch, code: int,
                                                          left: int) -> None:
    """Reworded reasons (a translation, a clearer sentence) change nothing about the quota."""
    monkeypatch.setitem(wechat_api.PERMANENT, code, "reworded for people")
    await wechat.open_window(OPENID)
    wx_api.script = [code]
    with pytest.raises(PermanentChannelError, match="reworded for people"):
        await wechat.send(reply())
    assert await wechat.replies_left(OPENID) == left


async def test_http_5xx_is_retryable(wechat: WechatAdapter, wx_api: FakeWechat) -> None:
    await wechat.open_window(OPENID)
    await wechat.api.token()
    wx_api.status_script = [502]
    with pytest.raises(RetryableChannelError, match="502"):
        await wechat.send(reply())


async def test_quota_of_five_replies_per_window(wechat: WechatAdapter, wx_api: FakeWechat, store: Store) -> None:
    assert await wechat.replies_left(OPENID) == 0
    with pytest.raises(PermanentChannelError, match="window has closed"):
        await wechat.send(reply())
    assert wx_api.attempts == []
    await wechat.open_window(OPENID)
    for i in range(QUOTA):
        assert await wechat.replies_left(OPENID) == QUOTA - i
        await wechat.send(reply(rid=f"r{i}"))
    assert await wechat.replies_left(OPENID) == 0
    with pytest.raises(PermanentChannelError, match="quota_left 0"):
        await wechat.send(reply(rid="r6"))
    assert len(wx_api.sent) == QUOTA
    ttl = await store.client.ttl(store.keys.wechat_quota("shop", OPENID))
    assert 47 * 3600 < ttl <= 48 * 3600
    await wechat.open_window(OPENID)  # the customer writes again
    assert await wechat.replies_left(OPENID) == QUOTA


async def test_a_customer_message_opens_the_window(wechat: WechatAdapter, wechat_base: str) -> None:
    assert await post(wechat_base, text_xml(OPENID, "在吗", 5, int(time.time())),
                      signed_query(WX_TOKEN)) == (200, "success")
    assert await wechat.replies_left(OPENID) == QUOTA


async def test_accounts_side_by_side_each_check_their_own_token(store: Store, wx_api: FakeWechat) -> None:
    other_cfg = type(wx_settings(wx_api))(account="outlet", app_id=wx_api.app_id,
                                           app_secret=wx_api.app_secret, token="outlet-token",
                                           api_base=wx_api.base)
    shop = WechatAdapter(wx_settings(wx_api), Deps(Ingestor(store), store))
    outlet = WechatAdapter(other_cfg, Deps(Ingestor(store), store))
    app = web.Application(middlewares=[errors])
    app.router.add_routes([*shop.routes(), *outlet.routes()])
    async with serve_app(app) as base, aiohttp.ClientSession() as http:
        body = text_xml(OPENID, "hi outlet", 31).encode()
        async with http.post(f"{base}/webhooks/wechat/outlet", data=body,
                             params=signed_query("outlet-token")) as r:
            assert r.status == 200
        async with http.post(f"{base}/webhooks/wechat/shop", data=body,
                             params=signed_query("outlet-token")) as r:
            assert r.status == 403
    assert [(m.account, m.text) for m in await inbound(store)] == [("outlet", "hi outlet")]
    await shop.close()
    await outlet.close()


def test_a_bad_aes_key_is_refused_at_its_key() -> None:
    """In the settings layer, where `kefu check` and `kefu serve` both meet it, at the value."""
    from kefu_common.errors import ConfigErrors
    from router.config.settings import parse_settings

    with pytest.raises(ConfigErrors) as info:
        parse_settings("""
channels:
  wechat:
    - {account: shop, app_id: wx1, app_secret: s, token: t, encoding_aes_key: "tooshort"}
""", "kefu.yaml")
    assert str(info.value) == "kefu.yaml:4:79: channels.wechat: encoding_aes_key must be 43 characters, got 8"
