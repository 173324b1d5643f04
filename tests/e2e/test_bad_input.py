"""Bad input gets a clear refusal and changes nothing."""

from __future__ import annotations

import json

import aiohttp
import pytest
import redis.asyncio as aioredis
from helpers.app import basic_settings, running
from helpers.clients import agent, customer, msg_id


async def test_agent_bad_frames_keep_the_connection(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, "alice-token-1234")
        r = aioredis.from_url(redis_url, decode_responses=True)
        before = await r.dbsize()
        cases = [
            ("{not json", "bad_json"),
            ("[1, 2]", "bad_frame"),
            (json.dumps({"type": "teleport"}), "unknown_type"),
            (json.dumps({"type": "reply", "conversation_id": "c_nope", "text": "hi", "client_msg_id": "x1"}),
             "unknown_conversation"),
            (json.dumps({"type": "reply", "conversation_id": "c_nope", "client_msg_id": "x2"}), "bad_frame"),
            (json.dumps({"type": "close", "conversation_id": "c_nope"}), "unknown_conversation"),
            (json.dumps({"type": "transfer", "conversation_id": "c_nope"}), "bad_frame"),
            (json.dumps({"type": "status", "status": "sleeping"}), "bad_frame"),
        ]
        for raw, code in cases:
            await alice.ws.send_str(raw)
            err = await alice.expect(lambda f: f["type"] == "error", start=len(alice.frames))
            assert err["code"] == code, (raw, err)
            assert err["detail"]
        assert not alice.ws.closed
        await alice.send({"type": "ping"})
        await alice.expect(lambda f: f["type"] == "pong")
        assert await r.dbsize() == before  # no key was created by any refused frame
        await alice.close()
        await r.aclose()


async def test_customer_bad_frames_and_oversize(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        cust, _ = await customer(http, base)
        await cust.ws.send_str('{"type": "message", "text": ""}')
        err = await cust.expect(lambda f: f["type"] == "error")
        assert err["code"] == "bad_frame"
        await cust.send({"type": "message", "text": "ok", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "ack")

        big = "x" * (_rt.settings.limits.max_frame_bytes + 10)
        await cust.ws.send_str(json.dumps({"type": "message", "text": big, "client_msg_id": "b"}))
        await cust._reader
        assert cust.ws.close_code == 1009


async def test_bad_tokens_get_401(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        for url in (f"{base}/ws/agent?token=wrong", f"{base}/ws/agent", f"{base}/ws/chat?session=v1.x.1.y"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await http.ws_connect(url)
            assert exc.value.status == 401
        async with http.get(f"{base}/api/v1/conversations", headers={"Authorization": "Bearer nope"}) as r:
            assert r.status == 401
            assert (await r.json())["error"] == "unauthorized"
        # A forged web chat session (valid shape, wrong signature) is refused too.
        async with http.post(f"{base}/api/v1/webchat/sessions") as r:
            token = (await r.json())["session"]
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(f"{base}/ws/chat?session={forged}")
        # Agents see only their own conversations.
        cust, _ = await customer(http, base)
        alice = await agent(http, base, "alice-token-1234")
        await cust.send({"type": "message", "text": "hi", "client_msg_id": msg_id()})
        conv = (await alice.expect(lambda f: f["type"] == "assigned"))["conversation"]
        async with http.get(f"{base}/api/v1/conversations/{conv['id']}",
                            headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 403
        for s in (cust, alice):
            await s.close()


