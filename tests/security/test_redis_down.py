"""Issue 13 item 13: while Redis is down, customer sockets closed with a bare 1006 and webhooks
got a plain-text 500. Now a customer gets an error frame with a retry hint (a new socket: the
frame, then close 1013 "try again later"), and webhooks get 503 with Retry-After, which WeChat and
Telegram retry. After Redis is back, the same deliveries are accepted."""

from __future__ import annotations

import json
import time

import aiohttp
from helpers.clients import customer, msg_id
from helpers.fake_wechat import signed_query, text_xml

from tests.security.conftest import TG_SECRET, WX_TOKEN, Stack


def _tg_update(update_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": "还在吗",
        "chat": {"id": 4242, "type": "private"}, "from": {"id": 4242, "is_bot": False, "first_name": "Li"}}}


async def _telegram(stack: Stack, update: dict[str, object]) -> aiohttp.ClientResponse:
    async with stack.http.post(f"{stack.base}/webhooks/telegram/shopbot", json=update,
                               headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as r:
        await r.read()
        return r


async def _wechat(stack: Stack, xml: str) -> aiohttp.ClientResponse:
    query = signed_query(WX_TOKEN, timestamp=str(int(time.time())), nonce=msg_id()[:10])
    async with stack.http.post(f"{stack.base}/webhooks/wechat/shop", params=query, data=xml.encode()) as r:
        await r.read()
        return r


async def test_redis_down_error_frames_and_503s(stack: Stack) -> None:
    sock, token = await customer(stack.http, stack.base)
    await sock.expect(lambda f: f["type"] == "conversation")
    stack.redis.stop()
    try:
        cid = msg_id()
        await sock.send({"type": "message", "text": "在吗", "client_msg_id": cid})
        err = await sock.expect(lambda f: f.get("ref") == cid, timeout=15)
        assert err["type"] == "error" and err["code"] == "unavailable" and err["retry_after"] > 0, err
        assert not sock.ws.closed

        # A page (re)connecting now hears why and when to come back.
        async with stack.http.ws_connect(f"{stack.base}/ws/chat?session={token}") as ws:
            first = await ws.receive(timeout=15)
            assert first.type is aiohttp.WSMsgType.TEXT
            frame = json.loads(first.data)
            assert frame["type"] == "error" and frame["code"] == "unavailable" and frame["retry_after"] > 0
            closing = await ws.receive(timeout=15)
            assert closing.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1013

        r = await _telegram(stack, _tg_update(9001))
        assert r.status == 503 and int(r.headers["Retry-After"]) >= 1
        assert r.content_type == "application/json"
        xml = text_xml("o-down-1", "还没发货", 777001, create_time=int(time.time()))
        r = await _wechat(stack, xml)
        assert r.status == 503 and int(r.headers["Retry-After"]) >= 1

        async with stack.http.get(f"{stack.base}/readyz") as resp:
            assert resp.status == 503
    finally:
        stack.redis.start()  # the same port: the client reconnects by itself

    # The channels' retries and the page's resend are now accepted.
    deadline = time.monotonic() + 20
    while (await _telegram(stack, _tg_update(9001))).status != 200:
        assert time.monotonic() < deadline, "Telegram retry not accepted after Redis came back"
    assert (await _wechat(stack, xml)).status == 200
    await sock.send({"type": "message", "text": "在吗", "client_msg_id": cid})
    await sock.expect(lambda f: f["type"] == "ack" and f["client_msg_id"] == cid, timeout=15)
    await sock.close()
