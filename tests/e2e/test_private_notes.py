"""Private notes and mentions (issue 16 item 5) through the running router, on every channel: the
web chat page, WeChat (the real wechatpy against the fake API) and Telegram (python-telegram-bot
against the fake Bot API). A note reaches staff, the transcript and the archive, and never a
customer: each channel gets the reply sent after the note and never the note itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from helpers.app import BASIC, running
from helpers.clients import Socket, agent, customer, msg_id
from helpers.fake_telegram import FakeTelegram, fake_telegram
from helpers.fake_wechat import FakeWechat, fake_wechat, signed_query, text_xml

from router.config.settings import parse_settings
from router.runtime import Runtime
from tests.adapters.support import TG_SECRET, WX_TOKEN
from tests.e2e.test_media_channels import CHANNELS

OPENID = "oNoteCustomer"
CHAT = 778001
SECRET_NOTE = "内部：这位客户上次退款有争议，先别承诺 @bob @nobody 看一下"


@pytest.fixture
async def router(redis_url: str) -> AsyncIterator[tuple[Runtime, str, aiohttp.ClientSession, FakeWechat,
                                                        FakeTelegram]]:
    async with fake_wechat() as wx, fake_telegram() as tg:
        text = BASIC.format(cap=100) + CHANNELS.format(
            app_id=wx.app_id, secret=wx.app_secret, wx_token=WX_TOKEN, wx=wx.base, tg_token=tg.token,
            tg_secret=TG_SECRET, tg=tg.base)
        async with running(parse_settings(text, "<test>"), redis_url) as (rt, base), \
                aiohttp.ClientSession() as http:
            yield rt, base, http, wx, tg


async def _until(pred: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await pred():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


async def test_a_note_reaches_staff_and_the_archive_and_no_customer_on_any_channel(router: Any) -> None:
    rt, base, http, wx, tg = router
    alice = await agent(http, base, "alice-token-1234")
    bob = await agent(http, base, "bob-token-12345")
    web_customer, web_token = await customer(http, base)
    await web_customer.send({"type": "message", "text": "网页上的问题", "client_msg_id": msg_id()})
    async with http.post(f"{base}/webhooks/wechat/shop", params=signed_query(WX_TOKEN),
                         data=text_xml(OPENID, "微信上的问题", 9_100_001).encode()) as r:
        assert r.status == 200
    update = {"update_id": 91, "message": {"message_id": 91, "date": int(time.time()),
                                           "chat": {"id": CHAT, "type": "private"},
                                           "from": {"id": CHAT, "is_bot": False, "first_name": "Ivan"},
                                           "text": "telegram question"}}
    async with http.post(f"{base}/webhooks/telegram/shopbot", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
        assert r.status == 200
    convs: dict[str, dict[str, Any]] = {}
    for channel in ("webchat", "wechat", "telegram"):
        frame = await _assigned_anywhere((alice, bob), channel)
        convs[channel] = frame

    for channel, (sock, frame) in convs.items():
        cid = frame["conversation"]["id"]
        owner = "alice" if sock is alice else "bob"
        client_id = msg_id()
        await sock.send({"type": "note", "conversation_id": cid, "text": SECRET_NOTE, "client_msg_id": client_id})
        ack = await sock.expect(lambda f, c=client_id: f["type"] == "ack" and f["client_msg_id"] == c)
        assert ack["note"] is True and ack["mentioned"] == ["bob"]  # @nobody is no agent
        # The author sees it live, highlighted as a note; bob is told he was named.
        shown = await sock.expect(lambda f, c=cid: f["type"] == "message" and f["conversation_id"] == c
                                  and f["message"].get("note"))
        assert shown["message"]["text"] == SECRET_NOTE and shown["message"]["agent_id"] == owner
        await bob.expect(lambda f, c=cid: f["type"] == "mention" and f["conversation_id"] == c)
        # A resend of the same frame is one note.
        await sock.send({"type": "note", "conversation_id": cid, "text": SECRET_NOTE, "client_msg_id": client_id})
        await sock.expect(lambda f, c=client_id: f["type"] == "ack" and f["client_msg_id"] == c, start=1)
        # Then a reply, which each channel does get.
        await sock.send({"type": "reply", "conversation_id": cid, "text": f"已收到 {channel}",
                         "client_msg_id": msg_id()})

    await web_customer.expect(lambda f: f["type"] == "message" and f["message"]["text"] == "已收到 webchat")

    async def delivered() -> bool:
        return any(m.get("text", {}).get("content") == "已收到 wechat" for m in wx.sent) \
            and "已收到 telegram" in tg.sent_to(CHAT)
    await _until(delivered)
    assert not any(SECRET_NOTE in str(m) for m in wx.attempts)
    assert not any(SECRET_NOTE in str(p) for _, p in tg.calls)
    assert not any(SECRET_NOTE in str(f) for f in web_customer.frames)
    # A page that reconnects replays its feed: the note is not in it either.
    again, _ = await customer(http, base, web_token)
    await asyncio.sleep(0.5)
    assert not any(SECRET_NOTE in str(f) for f in again.frames)

    for channel, (sock, frame) in convs.items():
        cid = frame["conversation"]["id"]
        async with http.get(f"{base}/api/v1/conversations/{cid}",
                            headers={"Authorization": "Bearer sue-token-12345"}) as r:
            notes = [m for m in (await r.json())["messages"] if m.get("note") and m["from"] == "agent"]
        assert [n["text"] for n in notes] == [SECRET_NOTE], channel  # once, for the supervisor too
        await sock.send({"type": "close", "conversation_id": cid})

    async def archived() -> bool:
        if not rt.archive.ready.is_set():
            return False
        for _channel, (_sock, frame) in convs.items():
            rows = await rt.archive.transcript(frame["conversation"]["id"], 50)
            if not any(m.get("note") and m["text"] == SECRET_NOTE for m in rows):
                return False
        return True
    await _until(archived, timeout=20)
    for sock in (alice, bob, web_customer, again):
        await sock.close()


async def _assigned_anywhere(socks: tuple[Socket, Socket], channel: str) -> tuple[Socket, dict[str, Any]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for sock in socks:
            for f in sock.of("assigned"):
                if f["conversation"]["channel"] == channel:
                    return sock, f
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {channel} conversation assigned")


async def test_notes_are_refused_to_staff_who_may_not_see_the_conversation(router: Any) -> None:
    _rt, base, http, _wx, _tg = router
    alice = await agent(http, base, "alice-token-1234")
    web_customer, _ = await customer(http, base)
    await web_customer.send({"type": "message", "text": "你好", "client_msg_id": msg_id()})
    cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
    bob = await agent(http, base, "bob-token-12345")
    await bob.send({"type": "note", "conversation_id": cid, "text": "偷偷写", "client_msg_id": "x1"})
    err = await bob.expect(lambda f: f["type"] == "error")
    assert err["code"] == "forbidden" and err["ref"] == "x1"
    for bad, code in (({"conversation_id": cid, "client_msg_id": "x2"}, "bad_frame"),
                      ({"conversation_id": cid, "text": "x" * 9_000, "client_msg_id": "x3"}, "too_long"),
                      ({"conversation_id": "c_nope", "text": "hi", "client_msg_id": "x4"}, "unknown_conversation")):
        await alice.send({"type": "note", **bad})
        got = await alice.expect(lambda f, r=bad["client_msg_id"]: f["type"] == "error" and f.get("ref") == r)
        assert got["code"] == code
    sue = await agent(http, base, "sue-token-12345")  # a supervisor may write in any conversation
    await sue.send({"type": "note", "conversation_id": cid, "text": "主管提醒 @alice", "client_msg_id": "s1"})
    assert (await sue.expect(lambda f: f["type"] == "ack"))["mentioned"] == ["alice"]
    shown = await alice.expect(lambda f: f["type"] == "message" and f["message"].get("note"))
    assert shown["message"]["agent_id"] == "sue"
    for sock in (alice, bob, sue, web_customer):
        await sock.close()


async def test_an_agent_named_in_a_note_may_read_the_conversation_and_answer_in_notes(router: Any) -> None:
    """@bob in alice's note lets bob open the conversation (the toast's link) and write notes in it;
    he still cannot reply to the customer, and before the note he could not read it."""
    rt, base, http, _wx, _tg = router
    alice = await agent(http, base, "alice-token-1234")
    web_customer, _ = await customer(http, base)
    await web_customer.send({"type": "message", "text": "尺码怎么选", "client_msg_id": msg_id()})
    cid = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]["id"]
    bob = await agent(http, base, "bob-token-12345")
    bob_auth = {"Authorization": "Bearer bob-token-12345"}
    async with http.get(f"{base}/api/v1/conversations/{cid}", headers=bob_auth) as r:
        assert r.status == 403
    await alice.send({"type": "note", "conversation_id": cid, "text": "@bob 你熟悉尺码表，帮忙看看",
                      "client_msg_id": "n1"})
    await bob.expect(lambda f: f["type"] == "mention" and f["conversation_id"] == cid)
    async with http.get(f"{base}/api/v1/conversations/{cid}", headers=bob_auth) as r:
        assert r.status == 200
        body = await r.json()
    assert [m["text"] for m in body["messages"]][:1] == ["尺码怎么选"]
    assert any(m.get("note") and "@bob" in m["text"] for m in body["messages"])
    await bob.send({"type": "note", "conversation_id": cid, "text": "选大一码", "client_msg_id": "b1"})
    assert (await bob.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == "b1"))["note"] is True
    await alice.expect(lambda f: f["type"] == "message" and f["message"].get("text") == "选大一码")
    await bob.send({"type": "reply", "conversation_id": cid, "text": "直接回客户", "client_msg_id": "b2"})
    assert (await bob.expect(lambda f: f["type"] == "error" and f.get("ref") == "b2"))["code"] != "ok"
    await asyncio.sleep(0.3)
    assert not any("直接回客户" in str(f) or "选大一码" in str(f) for f in web_customer.frames)
    assert await rt.store.client.sismember(rt.store.keys.conv_readers(cid), "bob")
    for sock in (alice, bob, web_customer):
        await sock.close()
