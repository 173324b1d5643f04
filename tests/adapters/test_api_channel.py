"""The generic API channel end to end: a bridge posts customers' messages with its key, each taken
once by native_id; agents' replies reach its URL signed, retried with the same id; bad input is
refused with a reason and stores nothing."""

from __future__ import annotations

import json

import aiohttp
from helpers.app import BASIC, running
from helpers.clients import agent, msg_id
from helpers.hook_receiver import receiver

from router.config.settings import parse_settings
from router.hooks.events import SIGNATURE_HEADER, signature_ok

KEY = "bridge-key-0123456789"
STRICT_KEY = "strict-key-0123456789"


def config(url: str, secret: str) -> str:
    return BASIC.format(cap=20) + f"""
channels:
  api:
    - account: doudian
      api_key: {KEY}
      reply_url: {url}
      reply_secret: {secret}
      allow_private_networks: true
      max_text_chars: 500
      max_body_bytes: 4096
    - account: strict
      api_key: {STRICT_KEY}
"""


async def test_bridge_round_trip_dedupe_and_refusals(redis_url: str) -> None:
    async with receiver(fail_first=2) as bridge:
        settings = parse_settings(config(bridge.url, bridge.secret), "<test>")
        async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
            alice = await agent(http, base, "alice-token-1234")
            url = f"{base}/api/v1/channels/api/doudian/messages"
            auth = {"Authorization": f"Bearer {KEY}"}
            msg = {"customer_ref": "buyer-42", "native_id": "dd-1001", "text": "订单什么时候发货？", "name": "小王"}
            async with http.post(url, json=msg, headers=auth) as r:
                assert r.status == 202, await r.text()
                first = await r.json()
            # The bridge retries: the same native_id is the same message, taken once.
            async with http.post(url, json=msg, headers={"X-Kefu-Api-Key": KEY}) as r:
                assert r.status == 200
                assert await r.json() == {"message_id": first["message_id"], "duplicate": True}
            assigned = await alice.expect(lambda f: f["type"] == "assigned")
            conv = assigned["conversation"]
            assert (conv["channel"], conv["account"]) == ("api", "doudian")
            assert [m["text"] for m in assigned["messages"]] == ["订单什么时候发货？"]

            # Bad input: a 4xx with its reason, and nothing stored.
            before = rt.ingestor.accepted["api"]
            refusals = [
                (url, {**msg, "native_id": "dd-x"}, {}, 401),
                (url, {**msg, "native_id": "dd-x"}, {"Authorization": "Bearer wrong-key-0123456789"}, 401),
                (url, {**msg, "native_id": "dd-x", "text": "长" * 501}, auth, 400),
                (url, {**msg, "native_id": "dd-x", "text": "x" * 5000}, auth, 413),
                (url, {"customer_ref": "buyer-42", "text": "no id"}, auth, 400),
                (url, {"customer_ref": "buyer 42", "native_id": "dd-x", "text": "space"}, auth, 400),
                (url, {"customer_ref": "buyer-42", "native_id": "dd-x"}, auth, 400),
                (url, {**msg, "native_id": "dd-x", "extra": 1}, auth, 400),
                (f"{base}/api/v1/channels/api/strict/messages",
                 {**msg, "native_id": "dd-x", "media": {"url": "http://169.254.169.254/latest/", "kind": "image"}},
                 {"Authorization": f"Bearer {STRICT_KEY}"}, 400),
                (url, {**msg, "native_id": "dd-x"}, {"Authorization": f"Bearer {STRICT_KEY}"}, 401),
            ]
            for target, body, headers, status in refusals:
                async with http.post(target, json=body, headers=headers) as r:
                    answer = await r.json()
                    assert r.status == status, (body, answer)
                    assert answer["detail"], answer
            async with http.post(url, data=b"not json", headers={**auth, "Content-Type": "text/plain"}) as r:
                assert r.status == 415
            assert rt.ingestor.accepted["api"] == before

            # The agent answers: the bridge gets it signed; it refused twice first, so the same
            # id came three times.
            cid = conv["id"]
            await alice.send({"type": "reply", "conversation_id": cid, "text": "今天下午发出", "client_msg_id": msg_id()})
            delivered = await alice.expect(lambda f: f["type"] == "delivery")
            assert delivered["status"] == "sent", delivered
            assert len(bridge.requests) == 3 and all(r["signed"] for r in bridge.requests)
            assert len({r["body"]["id"] for r in bridge.requests}) == 1
            [taken] = bridge.taken
            assert taken["type"] == "message.reply"
            assert taken["data"]["customer_ref"] == "buyer-42" and taken["data"]["text"] == "今天下午发出"
            assert taken["data"]["conversation_id"] == cid and taken["data"]["author"] == "alice"
            raw = bridge.requests[-1]
            sent = json.dumps(raw["body"], ensure_ascii=False, separators=(",", ":")).encode()
            assert signature_ok(bridge.secret, sent, raw["headers"][SIGNATURE_HEADER])

            # An account without reply_url: the agent is told why the reply did not go.
            strict = f"{base}/api/v1/channels/api/strict/messages"
            async with http.post(strict, json={"customer_ref": "app-7", "native_id": "a-1", "text": "hello"},
                                 headers={"Authorization": f"Bearer {STRICT_KEY}"}) as r:
                assert r.status == 202
            other = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] != cid)
            await alice.send({"type": "reply", "conversation_id": other["conversation"]["id"], "text": "hi",
                              "client_msg_id": msg_id()})
            failed = await alice.expect(lambda f: f["type"] == "delivery" and f["status"] == "failed")
            assert "no reply_url" in failed["reason"]
            await alice.close()


async def test_config_refuses_weak_keys_and_internal_reply_urls() -> None:
    text = BASIC.format(cap=5) + """
channels:
  api:
    - account: bad
      api_key: short
      reply_url: http://10.0.0.5/replies
"""
    try:
        parse_settings(text, "<test>")
    except Exception as exc:
        message = str(getattr(exc, "errors", exc))
    else:
        raise AssertionError("a weak key and an internal reply_url were taken")
    assert "api_key: at least 16 characters" in message
    assert "private address" in message and "reply_secret" in message
