"""The WeCom 微信客服 adapter: the callback (URL check, decrypting, refusals), the pull (pages,
cursor, locks, crashes, malformed entries), every message and event type, replies within the
window, the welcome, the kf session state and the shared token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import xmltodict  # type: ignore[import-untyped]
from helpers.fake_wecom import (
    AES_KEY,
    CB_TOKEN,
    CORP_ID,
    KFID,
    FakeWecom,
    callback_xml,
    encrypted_callback,
    entry,
    event,
    text,
)
from helpers.webhooks import serve_adapter
from wechatpy.enterprise.crypto import WeChatCrypto

from adapters.base import Deps
from adapters.wechat_crypto import MessageCrypto, signature
from adapters.wecom import QUOTA, WecomAccountSettings, WecomAdapter
from adapters.wecom_parse import chat_of
from kefu_common.errors import ConfigError, PermanentChannelError, ProtocolError, RetryableChannelError
from router.config.media import MediaSettings
from router.config.settings import load_settings
from router.media.directory import DirectoryStore
from router.media.policy import MediaPolicy
from router.models import Channel, Kind, Message, Reply, Sender
from router.pipeline.ingest import Ingestor
from router.store import Store
from tests.adapters.support import inbound, snapshot

USER = "wmCustomer0001"
CHAT = chat_of(USER, KFID)


def settings(api: FakeWecom, **extra: Any) -> WecomAccountSettings:
    base: dict[str, Any] = {"account": "corp", "corp_id": CORP_ID, "secret": api.secret, "token": CB_TOKEN,
                            "encoding_aes_key": AES_KEY, "api_base": api.base, "sweep_interval_s": 0.2,
                            "pull_lease_s": 2.0}
    return WecomAccountSettings(**{**base, **extra})


@asynccontextmanager
async def served(store: Store, api: FakeWecom, **extra: Any) -> AsyncIterator[tuple[str, WecomAdapter]]:
    adapter = WecomAdapter(settings(api, **extra), Deps(Ingestor(store), store))
    await adapter.start()
    try:
        async with serve_adapter(adapter) as base:
            yield base, adapter
    finally:
        await adapter.close()


@pytest.fixture
async def wecom(store: Store, wc_api: FakeWecom) -> AsyncIterator[tuple[str, WecomAdapter]]:
    async with served(store, wc_api) as pair:
        yield pair


async def post(base: str, body: str, query: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, \
            http.post(f"{base}/webhooks/wecom/corp", data=body.encode(), params=query) as r:
        return r.status, await r.text()


async def notify(base: str, api: FakeWecom, kfid: str = KFID) -> None:
    body, q = encrypted_callback(callback_xml(kfid, api.callback_token()))
    assert await post(base, body, q) == (200, "success")


async def until(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def ingested(store: Store, n: int) -> list[Message]:
    async def enough() -> bool:
        return len(await inbound(store)) >= n
    await until(enough)
    await asyncio.sleep(0.1)  # anything past n would show now
    return await inbound(store)


def reply(text: str = "您好，已发货", sender: Sender = Sender.AGENT, rid: str = "r1", author: str = "alice") -> Reply:
    return Reply(id=rid, conversation_id="c1", customer_id="cu1", channel=Channel("wecom"), account="corp",
                 chat=CHAT, text=text, author=author, sender=sender)


# -- the callback -----------------------------------------------------------------------------------
async def test_url_check_echoes_the_decrypted_echostr(wecom: tuple[str, WecomAdapter]) -> None:
    base, _ = wecom
    crypto = WeChatCrypto(CB_TOKEN, AES_KEY, CORP_ID)
    body, q = encrypted_callback("8837492019", nonce="n1")
    echostr = xmltodict.parse(body)["xml"]["Encrypt"]
    # wechatpy, checking the same query as WeCom would, gets the same answer we give.
    assert crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], echostr) == "8837492019"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/webhooks/wecom/corp", params={**q, "echostr": echostr}) as r:
            assert (r.status, await r.text()) == (200, "8837492019")
        async with http.get(f"{base}/webhooks/wecom/corp",
                            params={**q, "echostr": echostr, "msg_signature": "0" * 40}) as r:
            assert r.status == 403


async def test_a_callback_is_acked_and_the_messages_pulled(
        wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store) -> None:
    base, _ = wecom
    wc_api.push(KFID, text(USER, "这件有M码吗？"), text(USER, "在吗"))
    await notify(base, wc_api)
    msgs = await ingested(store, 2)
    assert [(m.channel, m.account, m.sender_ref, m.kind, m.text) for m in msgs] == [
        ("wecom", "corp", CHAT, Kind.TEXT, "这件有M码吗？"), ("wecom", "corp", CHAT, Kind.TEXT, "在吗")]
    assert msgs[0].native_id == wc_api.queue[KFID][0]["msgid"]
    assert await store.wecom.cursor("corp", KFID) == "c2"
    assert wc_api.syncs[0][2] in wc_api.sync_tokens  # the callback's token went along


def _forged(base_q: dict[str, str]) -> dict[str, str]:
    return {**base_q, "msg_signature": "0" * 40}


@pytest.mark.parametrize("case", ["forged", "stale", "other_corp", "other_key", "no_encrypt"])
async def test_bad_callbacks_are_refused_and_store_nothing(
        case: str, wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store) -> None:
    base, _ = wecom
    wc_api.push(KFID, text(USER, "hi"))
    plain = callback_xml(KFID, wc_api.callback_token())
    body, q = encrypted_callback(plain)
    if case == "forged":
        q = _forged(q)
    elif case == "stale":
        body, q = encrypted_callback(plain, timestamp="1409659589")
    elif case == "other_corp":
        body, q = encrypted_callback(plain, corp_id="wwsomeoneelse")
    elif case == "other_key":
        body, q = encrypted_callback(plain, aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    else:
        body = "<xml><ToUserName>x</ToUserName></xml>"
    before = await snapshot(store)
    status, _ = await post(base, body, q)
    assert 400 <= status < 500
    await asyncio.sleep(0.3)
    assert await snapshot(store) == before
    assert wc_api.syncs == []


async def test_a_replayed_callback_with_another_body_is_refused(
        wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store) -> None:
    base, _ = wecom
    wc_api.push(KFID, text(USER, "hi"))
    body, q = encrypted_callback(callback_xml(KFID, wc_api.callback_token()), nonce="same-nonce")
    assert await post(base, body, q) == (200, "success")
    await ingested(store, 1)
    # WeCom's own retry (same query, same body) is taken and has no second effect...
    assert await post(base, body, q) == (200, "success")
    await until(lambda: _eq(store.wecom.pending("corp", KFID), None))
    await asyncio.sleep(0.3)
    # ...while the captured query with a body of someone else's choosing is refused.
    other, q2 = encrypted_callback(callback_xml("wkOTHER", wc_api.callback_token()), nonce="same-nonce",
                                   timestamp=q["timestamp"])
    before = await snapshot(store)
    status, _ = await post(base, other, {**q2, "msg_signature": q2["msg_signature"]})
    assert status == 403
    assert await snapshot(store) == before
    assert len(await ingested(store, 1)) == 1


# -- the pull -------------------------------------------------------------------------------------
async def test_pages_follow_has_more_and_the_cursor_persists(
        store: Store, wc_api: FakeWecom) -> None:
    async with served(store, wc_api, sync_limit=3) as (base, _):
        wc_api.push(KFID, *[text(f"wmU{i:03d}", f"m{i}") for i in range(8)])
        await notify(base, wc_api)
        assert [m.text for m in await ingested(store, 8)] == [f"m{i}" for i in range(8)]
        assert wc_api.pages_read() == [(KFID, ""), (KFID, "c3"), (KFID, "c6")]
        assert await store.wecom.cursor("corp", KFID) == "c8"
        # The next callback starts where the last pull stopped.
        wc_api.push(KFID, text("wmU100", "later"))
        await notify(base, wc_api)
        assert [m.text for m in await ingested(store, 9)][-1] == "later"
        assert wc_api.pages_read()[-1] == (KFID, "c8")


async def test_a_malformed_entry_is_skipped_and_logged_with_its_msgid(
        wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    base, adapter = wecom
    bad = [{"msgid": "BAD-1", "origin": 3, "msgtype": "text", "send_time": 1, "external_userid": USER,
            "open_kfid": KFID},  # no text object
           {"msgid": "BAD-2", "origin": 3, "msgtype": "image", "send_time": "yesterday"},
           "not an object",
           {"msgid": "BAD-3", "origin": 3, "msgtype": "text", "send_time": 1, "text": {"content": "x"},
            "external_userid": "wm bad id with spaces", "open_kfid": KFID}]
    wc_api.push(KFID, text(USER, "before"), *bad, text(USER, "after"))  # type: ignore[arg-type]
    caplog.set_level("WARNING", "kefu.wecom")
    await notify(base, wc_api)
    assert [m.text for m in await ingested(store, 2)] == ["before", "after"]
    assert adapter.skipped == 4
    for msgid in ("BAD-1", "BAD-2", "BAD-3"):
        assert any(msgid in r.getMessage() for r in caplog.records)


async def test_two_processes_never_pull_the_same_page(store: Store, wc_api: FakeWecom) -> None:
    """Two adapters on one Redis (two processes) get callbacks at the same moment, many times."""
    wc_api.sync_delay_s = 0.02
    async with served(store, wc_api, sync_limit=5) as (base1, _), \
            served(store, wc_api, sync_limit=5) as (base2, _):
        total = 0
        for burst in range(6):
            wc_api.push(KFID, *[text(f"wmP{burst}x{i}", f"b{burst}-{i}") for i in range(12)])
            total += 12
            await asyncio.gather(*(notify(b, wc_api) for b in (base1, base2, base1, base2)))
        msgs = await ingested(store, total)
        assert len(msgs) == total and len({m.native_id for m in msgs}) == total
        pages = wc_api.pages_read()
        assert len(pages) == len(set(pages)), "a page was read twice"
        assert await store.wecom.cursor("corp", KFID) == f"c{total}"


async def test_a_crash_mid_page_rereads_it_and_drops_repeats(store: Store, wc_api: FakeWecom) -> None:
    wc_api.push(KFID, *[text(USER, f"m{i}") for i in range(4)])
    async with served(store, wc_api, sweep_interval_s=600) as (base, adapter):
        real = adapter.take_in
        calls = 0

        async def dies_after_two(messages: Any) -> Any:
            nonlocal calls
            calls += len(messages)  # the callback's own take_in carries none
            if calls == 3:
                raise RuntimeError("killed mid-page")
            return await real(messages)

        adapter.take_in = dies_after_two  # type: ignore[method-assign]
        await notify(base, wc_api)
        await ingested(store, 2)
        assert await store.wecom.cursor("corp", KFID) == ""  # not advanced past a page half taken
        adapter.take_in = real  # type: ignore[method-assign]
        # The sweep pulls again (the callback's marker is still there): the page is read twice...
        await adapter.puller.sweep()
        assert await store.wecom.cursor("corp", KFID) == "c4"
    msgs = await inbound(store)
    assert [m.text for m in msgs] == ["m0", "m1", "m2", "m3"]  # ...and nothing is taken twice
    assert wc_api.pages_read().count((KFID, "")) == 2


async def _eq(value: Any, want: Any) -> bool:
    return bool(await value == want)


async def test_a_callback_acked_before_a_kill_is_pulled_after_restart(store: Store, wc_api: FakeWecom) -> None:
    """The process dies between its ack and its pull: the next process's sweep pulls."""
    wc_api.push(KFID, text(USER, "are you there"))
    wc_api.sync_script = [-1]  # the first pull fails, as if cut short
    async with served(store, wc_api, sweep_interval_s=600) as (base, _adapter):
        await notify(base, wc_api)
        await asyncio.sleep(0.3)
        assert await inbound(store) == []
        assert await store.wecom.pending("corp", KFID) is not None
    async with served(store, wc_api):
        assert [m.text for m in await ingested(store, 1)] == ["are you there"]
        await until(lambda: _eq(store.wecom.pending("corp", KFID), None))


async def test_only_configured_kf_accounts_are_pulled(store: Store, wc_api: FakeWecom) -> None:
    async with served(store, wc_api, open_kfids=[KFID]) as (base, _):
        wc_api.push("wkOtherKf", text(USER, "elsewhere", kfid="wkOtherKf"))
        await notify(base, wc_api, kfid="wkOtherKf")
        await asyncio.sleep(0.3)
        assert wc_api.syncs == [] and await inbound(store) == []


# -- message and event types ----------------------------------------------------------------------
TYPES = [
    (entry(USER, "image", {"media_id": "IMG1"}), Kind.IMAGE, "", "IMG1"),
    (entry(USER, "voice", {"media_id": "VOI1"}), Kind.VOICE, "", "VOI1"),
    (entry(USER, "video", {"media_id": "VID1"}), Kind.VIDEO, "", "VID1"),
    (entry(USER, "file", {"media_id": "FIL1"}), Kind.FILE, "", "FIL1"),
    (entry(USER, "location", {"latitude": 31.2, "longitude": 121.5, "name": "人民广场", "address": "上海"}),
     Kind.LOCATION, "人民广场 上海 (31.2, 121.5)", None),
    (entry(USER, "link", {"title": "订单", "desc": "我的订单", "url": "https://shop.example/o/1", "pic_url": ""}),
     Kind.LINK, "订单\n我的订单\nhttps://shop.example/o/1", None),
    (entry(USER, "miniprogram", {"title": "羽绒服", "appid": "wxmini", "pagepath": "pages/item?id=9",
                                 "thumb_media_id": "T"}),
     Kind.LINK, "[mini program] 羽绒服\nwxmini pages/item?id=9", None),
    (entry(USER, "business_card", {"userid": "zhangsan"}), Kind.LINK, "[business card] zhangsan", None),
    (entry(USER, "sticker", {}), Kind.UNKNOWN, "[sticker]", None),
    (event(USER, "enter_session", scene="123", scene_param="order_20241111"), Kind.EVENT,
     "[enter_session scene=123 scene_param=order_20241111]", None),
    (event(USER, "msg_send_fail", fail_msgid="abc", fail_type=10), Kind.EVENT,
     "[msg_send_fail: a reply did not reach the customer (msgid abc, fail_type 10)]", None),
    (event(USER, "session_status_change", change_type=3), Kind.EVENT,
     "[session_status_change: the session was ended in WeCom]", None),
]


@pytest.mark.parametrize(("native", "kind", "text_", "media"), TYPES,
                         ids=[str(t[0]["msgtype"] if t[0]["msgtype"] != "event" else t[0]["event"]["event_type"])
                              for t in TYPES])
async def test_every_type(native: dict[str, Any], kind: Kind, text_: str, media: str | None,
                          wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store) -> None:
    base, _ = wecom
    wc_api.push(KFID, native)
    await notify(base, wc_api)
    [m] = await ingested(store, 1)
    assert (m.kind, m.text, m.native_media, m.sender_ref) == (kind, text_, media, CHAT)
    assert m.raw == native


async def test_servicer_events_and_our_own_messages_are_not_customer_messages(
        wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store) -> None:
    base, _ = wecom
    servicer = entry(USER, "event", {"event_type": "servicer_status_change", "servicer_userid": "lisi",
                                     "status": 2, "open_kfid": KFID}, origin=4)
    wc_api.push(KFID, servicer, text(USER, "sent by us", origin=5), text(USER, "from the customer"))
    await notify(base, wc_api)
    assert [m.text for m in await ingested(store, 1)] == ["from the customer"]


async def test_media_is_fetched_with_media_get(wecom: tuple[str, WecomAdapter], wc_api: FakeWecom) -> None:
    _, adapter = wecom
    media_id = wc_api.add_media(b"\x89PNG\r\n\x1a\nfake", "image/png", "shot.png")
    got = await adapter.fetch_media(media_id)
    assert (got.data, got.name) == (b"\x89PNG\r\n\x1a\nfake", "shot.png")
    with pytest.raises(PermanentChannelError):
        await adapter.fetch_media("gone")


# -- replies ----------------------------------------------------------------------------------------
async def _customer_wrote(base: str, api: FakeWecom, store: Store, n: int = 1) -> None:
    api.push(KFID, text(USER, "你好"))
    await notify(base, api)
    await ingested(store, n)


async def test_reply_goes_through_send_msg_within_five_per_window(
        wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store) -> None:
    base, adapter = wecom
    with pytest.raises(PermanentChannelError, match="window has closed"):
        await adapter.send(reply(rid="r0"))  # the customer never wrote
    await _customer_wrote(base, wc_api, store)
    for i in range(QUOTA):
        await adapter.send(reply(f"第{i}条", rid=f"r{i + 1}"))
    sent = wc_api.sent[-1]
    assert (sent["touser"], sent["open_kfid"], sent["msgtype"]) == (USER, KFID, "text")
    assert await adapter.replies_left(CHAT) == 0
    with pytest.raises(PermanentChannelError, match="no messages left"):
        await adapter.send(reply("one too many", rid="r9"))
    assert len(wc_api.texts_to(USER)) == QUOTA
    # The customer writes again: a fresh window.
    await _customer_wrote(base, wc_api, store, 2)
    assert await adapter.replies_left(CHAT) == QUOTA


@pytest.mark.parametrize(("code", "kind", "left_after"), [
    (95001, PermanentChannelError, 0), (95002, PermanentChannelError, 0), (95013, PermanentChannelError, 0),
    (40096, PermanentChannelError, QUOTA), (-1, RetryableChannelError, QUOTA),
    (45033, RetryableChannelError, QUOTA)])
async def test_send_errors_are_mapped(code: int, kind: type[Exception], left_after: int,
                                      wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store) -> None:
    base, adapter = wecom
    await _customer_wrote(base, wc_api, store)
    wc_api.script = [code]
    with pytest.raises(kind) as info:
        await adapter.send(reply())
    assert info.value.reason  # type: ignore[attr-defined]
    assert await adapter.replies_left(CHAT) == left_after


async def test_an_expired_token_is_refreshed_once_and_shared(
        store: Store, wc_api: FakeWecom) -> None:
    async with served(store, wc_api) as (base, a1), served(store, wc_api) as (_, a2):
        await _customer_wrote(base, wc_api, store)
        await a1.send(reply("one", rid="ra"))
        await a2.send(reply("two", rid="rb"))
        assert wc_api.token_calls == 1  # both processes used the one token
        wc_api.valid_tokens.clear()
        await a2.send(reply("three", rid="rc"))
        assert wc_api.token_calls == 2
        assert wc_api.texts_to(USER) == ["one", "two", "three"]


async def test_an_agents_file_is_uploaded_once_and_sent(
        wecom: tuple[str, WecomAdapter], wc_api: FakeWecom, store: Store, tmp_path: Any) -> None:
    base, _ = wecom
    media = DirectoryStore(tmp_path, MediaPolicy(MediaSettings()))
    adapter = WecomAdapter(settings(wc_api), Deps(Ingestor(store), store, media))
    try:
        await _customer_wrote(base, wc_api, store)
        ref = await media.put(b"%PDF-1.4 invoice", conversation="c1", channel="wecom", name="invoice.pdf")
        await adapter.send(Reply(id="rf", conversation_id="c1", customer_id="cu1", channel=Channel("wecom"),
                                 account="corp", chat=CHAT, text="发票", author="alice", media=ref))
        assert [s["msgtype"] for s in wc_api.sent] == ["text", "file"]
        assert next(iter(wc_api.uploaded.values()))[0] == "file"
    finally:
        await adapter.close()


async def test_welcome_goes_through_send_msg_on_event_once(
        store: Store, wc_api: FakeWecom) -> None:
    async with served(store, wc_api, welcome="欢迎光临，有什么可以帮您？") as (base, _):
        wc_api.welcome_codes.add("WELCOME-1")
        enter = event(USER, "enter_session", scene="qr", scene_param="p", welcome_code="WELCOME-1")
        wc_api.push(KFID, enter)
        await notify(base, wc_api)
        await ingested(store, 1)
        await until(lambda: _true(bool(wc_api.on_event)))
        assert wc_api.on_event[0]["code"] == "WELCOME-1"
        assert wc_api.on_event[0]["text"]["content"] == "欢迎光临，有什么可以帮您？"
        # The same event read again (a crash mid-page) does not greet twice.
        wc_api.push(KFID, enter)
        await notify(base, wc_api)
        await asyncio.sleep(0.3)
        assert len(wc_api.on_event) == 1


async def _true(value: bool) -> bool:
    return value


async def test_service_state_follows_who_answers(store: Store, wc_api: FakeWecom) -> None:
    async with served(store, wc_api, servicer_userid="kefu01", servicers={"bob": "bob.wang"}) as (base, adapter):
        await _customer_wrote(base, wc_api, store)
        await adapter.send(reply("bot here", sender=Sender.BOT, rid="b1", author="bot"))
        await adapter.send(reply("alice here", rid="a1"))
        await adapter.send(reply("alice again", rid="a2"))
        await adapter.send(reply("bob here", rid="a3", author="bob"))
        assert [(t["service_state"], t.get("servicer_userid")) for t in wc_api.trans] == [
            (1, None), (3, "kefu01"), (3, "bob.wang")]
        assert all((t["open_kfid"], t["external_userid"]) == (KFID, USER) for t in wc_api.trans)


def test_config_errors_are_positioned(tmp_path: Any) -> None:
    path = tmp_path / "kefu.yaml"
    path.write_text("channels:\n  wecom:\n    - account: corp\n      corp_id: ww1\n      secret: s\n"
                    "      token: t\n      encoding_aes_key: short\n      sync_limit: 5000\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    text_ = str(info.value)
    assert f"{path}:7:25" in text_ and "encoding_aes_key must be 43 characters" in text_
    assert f"{path}:8:19" in text_ and "sync_limit" in text_


# -- crypto: WeCom's scheme, checked against wechatpy's own implementation --------------------------
def test_the_wecom_url_vector_with_ours_and_wechatpy() -> None:
    v = json.loads((Path(__file__).parents[1] / "fixtures" / "wechat_vectors.json").read_text("utf-8"))[
        "wecom_url_verify"]
    assert signature(v["token"], v["timestamp"], v["nonce"], v["echostr"]) == v["msg_signature"]
    assert MessageCrypto(v["encoding_aes_key"], v["corp_id"]).decrypt(v["echostr"]) == v["expected_plain"]
    theirs = WeChatCrypto(v["token"], v["encoding_aes_key"], v["corp_id"])
    assert theirs.check_signature(v["msg_signature"], v["timestamp"], v["nonce"], v["echostr"]) == v["expected_plain"]


@pytest.mark.parametrize("plain", ["<xml><Event>kf_msg_or_event</Event></xml>", "中文 and 😀", "x" * 5000])
def test_wechatpy_and_ours_read_each_others_payloads(plain: str) -> None:
    theirs = WeChatCrypto(CB_TOKEN, AES_KEY, CORP_ID)
    ours = MessageCrypto(AES_KEY, CORP_ID)
    body, _q = encrypted_callback(plain, nonce="n-1", timestamp="1700000000")
    encrypted = xmltodict.parse(body)["xml"]["Encrypt"]
    assert ours.decrypt(encrypted) == plain  # wechatpy encrypted, we decrypt
    mine = ours.encrypt(plain)
    sig = signature(CB_TOKEN, "1700000000", "n-1", mine)
    wrapped = f"<xml><Encrypt><![CDATA[{mine}]]></Encrypt></xml>"
    assert theirs.decrypt_message(wrapped, sig, "1700000000", "n-1") == plain  # and the other way
    with pytest.raises(ProtocolError):
        MessageCrypto(AES_KEY, "wwanothercorp").decrypt(encrypted)  # another receive id
