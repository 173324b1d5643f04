"""Item 3: signing out ends the session on the server. Before, the old cookie kept working for
up to 12 hours after DELETE /api/v1/session, on the API and the agent socket alike."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from helpers.app import BASIC, basic_settings, running

from router.config.settings import parse_settings
from router.web import agent_ws
from router.web.agent_ws import SIGNED_OUT


async def _sign_in(http: aiohttp.ClientSession, base: str, token: str = "alice-token-1234") -> str:
    async with http.post(f"{base}/api/v1/session", json={"token": token}) as r:
        assert r.status == 200
        return r.cookies["kefu_agent"].value


def _with(cookie: str, base: str) -> dict[str, str]:
    return {"Cookie": f"kefu_agent={cookie}", "Origin": base}


async def _status(http: aiohttp.ClientSession, base: str, cookie: str) -> int:
    async with http.get(f"{base}/api/v1/session", headers=_with(cookie, base)) as r:
        return r.status


async def test_sign_out_ends_the_session_for_the_api_and_the_socket(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        cookie = await _sign_in(http, base)
        other = await _sign_in(http, base)  # the same agent on a second computer
        assert await _status(http, base, cookie) == 200
        async with http.delete(f"{base}/api/v1/session", headers=_with(cookie, base)) as r:
            assert r.status == 200
        # The stolen or cached cookie is dead at once ...
        assert await _status(http, base, cookie) == 401
        async with http.get(f"{base}/api/v1/conversations", headers=_with(cookie, base)) as r:
            assert r.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{base}/ws/agent", headers=_with(cookie, base))
        assert refused.value.status == 401
        # ... and the other sign-in lives on.
        assert await _status(http, base, other) == 200


async def test_sign_out_on_one_process_ends_it_on_every_process(redis_url: str) -> None:
    settings = basic_settings()
    async with running(settings, redis_url) as (_a, one), running(settings, redis_url) as (_b, two), \
            aiohttp.ClientSession() as http:
        cookie = await _sign_in(http, one)
        assert await _status(http, two, cookie) == 200  # the session is in Redis, not in a process
        async with http.delete(f"{one}/api/v1/session", headers=_with(cookie, one)) as r:
            assert r.status == 200
        assert await _status(http, two, cookie) == 401


async def test_the_session_lives_as_long_as_the_cookie(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cookie = await _sign_in(http, base)
        key = rt.store.keys.session(rt.sessions.session_id(cookie))
        assert 11 * 3600 < await rt.store.client.ttl(key) <= 12 * 3600
        assert "alice-token-1234" not in str(await rt.store.client.hgetall(key))


async def _agent_socket(http: aiohttp.ClientSession, base: str, cookie: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{base}/ws/agent", headers=_with(cookie, base))
    hello = await ws.receive_json(timeout=5)
    assert hello["type"] == "hello"
    return ws


async def _closed_as_signed_out(ws: aiohttp.ClientWebSocketResponse) -> None:
    """The socket ends within a few seconds, with the code and reason the console acts on."""
    while True:
        msg = await ws.receive(timeout=5)  # today's main: the socket stays open, and this times out
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            break
        assert msg.type is aiohttp.WSMsgType.TEXT
        assert "session_ended" not in msg.data  # the notice is for the server, not the browser
    assert ws.close_code == SIGNED_OUT
    assert msg.extra == "signed out"


async def _still_open(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.send_json({"type": "ping"})
    while (frame := await ws.receive_json(timeout=5))["type"] != "pong":
        assert frame["type"] != "session_ended"


async def test_sign_out_closes_that_sessions_sockets_on_every_process(redis_url: str) -> None:
    settings = basic_settings()
    async with running(settings, redis_url) as (_a, one), running(settings, redis_url) as (_b, two), \
            aiohttp.ClientSession() as http:
        cookie = await _sign_in(http, one)
        other = await _sign_in(http, two)  # the same agent, signed in on a second computer
        bob = await _sign_in(http, two, "bob-token-12345")
        here, there = await _agent_socket(http, one, cookie), await _agent_socket(http, two, cookie)
        kept, kept_bob = await _agent_socket(http, one, other), await _agent_socket(http, two, bob)
        async with http.delete(f"{one}/api/v1/session", headers=_with(cookie, one)) as r:
            assert r.status == 200
        await _closed_as_signed_out(here)
        await _closed_as_signed_out(there)
        await _still_open(kept)
        await _still_open(kept_bob)
        for ws in (kept, kept_bob):
            await ws.close()


async def test_a_socket_notices_a_session_that_ended_without_a_notice(redis_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A notice lost on pub/sub (or a session that expired) still ends the socket, on its re-check."""
    monkeypatch.setattr(agent_ws, "PRESENCE_REFRESH_S", 0.3)
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cookie = await _sign_in(http, base)
        ws = await _agent_socket(http, base, cookie)
        await rt.store.client.delete(rt.store.keys.session(rt.sessions.session_id(cookie)))
        await _closed_as_signed_out(ws)


async def test_a_signed_out_agent_takes_the_usual_disconnect_path(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5) + "ops:\n  disconnect_grace_s: 0.5\n", "<test>")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        cookie = await _sign_in(http, base)
        ws = await _agent_socket(http, base, cookie)
        assert (await rt.store.agent("alice") or {})["status"] == "online"
        async with http.delete(f"{base}/api/v1/session", headers=_with(cookie, base)) as r:
            assert r.status == 200
        await _closed_as_signed_out(ws)
        for _ in range(50):  # the grace period runs out, then the agent goes offline
            agent = await rt.store.agent("alice") or {}
            if agent["status"] == "offline":
                break
            await asyncio.sleep(0.1)
        assert agent["status"] == "offline"
