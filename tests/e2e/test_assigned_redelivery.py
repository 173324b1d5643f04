"""An `assigned` frame the console never got is not lost: when expanding it keeps failing (Redis
busy), the agent's socket is closed and the reconnect's snapshot delivers it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from helpers.app import basic_settings, running
from helpers.clients import agent, customer, msg_id
from redis.exceptions import ConnectionError as RedisConnectionError

from router.pipeline import tap as fanout_tap


async def test_assigned_that_failed_to_build_comes_on_reconnect(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout_tap, "RETRY_DELAYS_S", (0.01, 0.02))
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        real = rt.desk.assigned_frame
        tries = 0

        async def busy(event: Any) -> dict[str, Any]:
            nonlocal tries
            tries += 1
            raise RedisConnectionError("No connection available.")

        monkeypatch.setattr(rt.desk, "assigned_frame", busy)
        # A new chat's frame is built from its published event with no read; this one must be
        # read, as a chat with history is, and Redis refuses the read.
        monkeypatch.setattr(rt.desk, "published_frame", lambda event: None)
        alice = await agent(http, base, "alice-token-1234")
        cust, _ = await customer(http, base)
        await cust.send({"type": "message", "text": "在吗", "client_msg_id": msg_id()})
        await cust.expect(lambda f: f["type"] == "ack")
        await asyncio.wait_for(alice._reader, 10)  # the server closes the socket: the frame could not be built
        assert alice.ws.close_code is not None and alice.ws.close_code != aiohttp.WSCloseCode.OK
        assert tries == 3 and alice.of("assigned") == []

        monkeypatch.setattr(rt.desk, "assigned_frame", real)
        again = await agent(http, base, "alice-token-1234")
        got = await again.expect(lambda f: f["type"] == "assigned")
        assert [m["text"] for m in got["messages"] if m["from"] == "customer"] == ["在吗"]
        await again.close()
        await cust.close()
