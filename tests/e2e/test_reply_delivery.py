"""Replies survive a flaky channel: retried with backoff, delivered once; a permanent failure
reaches the agent as a `failed` delivery with its reason and lands in the dead-letter stream."""

from __future__ import annotations

import aiohttp
import redis.asyncio as aioredis
from helpers.app import basic_settings, running
from helpers.clients import agent, msg_id
from helpers.fake_channel import ScriptedChannel

from adapters.base import Deps
from kefu_common.errors import PermanentChannelError, RetryableChannelError


async def test_retryable_then_success_and_permanent_failure(redis_url: str) -> None:
    settings = basic_settings()
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        chan = ScriptedChannel("fake", Deps(rt.ingestor, rt.store))
        rt.adapters[(chan.channel, chan.account)] = chan
        alice = await agent(http, base, "alice-token-1234")
        await rt.ingestor.ingest(chan.inbound("chat-1", "hello"))
        assigned = await alice.expect(lambda f: f["type"] == "assigned")
        cid = assigned["conversation"]["id"]

        chan.script = [RetryableChannelError("busy", retry_after=0.05), RetryableChannelError("5xx"), None]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "one", "client_msg_id": msg_id()})
        ok = await alice.expect(lambda f: f["type"] == "delivery")
        assert ok["status"] == "sent"
        assert len(chan.attempts) == 3 and [r.text for r in chan.delivered] == ["one"]

        chan.script = [PermanentChannelError("the customer blocked the bot")]
        await alice.send({"type": "reply", "conversation_id": cid, "text": "two", "client_msg_id": msg_id()})
        failed = await alice.expect(lambda f: f["type"] == "delivery" and f["status"] == "failed")
        assert failed["reason"] == "the customer blocked the bot"
        assert [r.text for r in chan.delivered] == ["one"]
        r = aioredis.from_url(redis_url, decode_responses=True)
        dead = await r.xrange("{out:kefu}:dead")
        assert len(dead) == 1 and dead[0][1]["reason"] == "the customer blocked the bot"

        # Order is kept: three quick replies arrive in the order written, even with a retry.
        chan.script = [RetryableChannelError("hiccup"), None, None, None]
        for text in ("a", "b", "c"):
            await alice.send({"type": "reply", "conversation_id": cid, "text": text, "client_msg_id": msg_id()})
        await alice.expect_count(lambda f: f["type"] == "delivery" and f["status"] == "sent", 4)
        assert [x.text for x in chan.delivered] == ["one", "a", "b", "c"]
        # The transcript shows each reply once, with its delivery status.
        async with http.get(f"{base}/api/v1/conversations/{cid}",
                            headers={"Authorization": "Bearer alice-token-1234"}) as resp:
            msgs = (await resp.json())["messages"]
        assert [(m["text"], m["delivery"]["status"]) for m in msgs[1:]] == [
            ("one", "sent"), ("two", "failed"), ("a", "sent"), ("b", "sent"), ("c", "sent")]
        await alice.close()
        await r.aclose()
