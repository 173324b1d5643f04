"""Item 3: signing out ends the session on the server. Before, the old cookie kept working for
up to 12 hours after DELETE /api/v1/session, on the API and the agent socket alike."""

from __future__ import annotations

import aiohttp
import pytest
from helpers.app import basic_settings, running


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
