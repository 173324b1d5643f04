"""Item 2: a state change made with the console's cookie must come from our own pages.

The probe closed a conversation with a bodiless POST carrying the cookie and
`Origin: http://evil.example`; SameSite=Strict does not stop pages on other ports or subdomains
of the same site.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from helpers.app import basic_settings, running
from helpers.clients import Socket, agent, customer, msg_id

from router.runtime import Runtime


@pytest.fixture
async def console(redis_url: str) -> AsyncIterator[tuple[Runtime, str, aiohttp.ClientSession]]:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        yield rt, base, http


async def _conversation(http: aiohttp.ClientSession, base: str, alice: Socket) -> str:
    shopper, _ = await customer(http, base)
    await shopper.send({"type": "message", "text": "hello", "client_msg_id": msg_id()})
    frame = await alice.expect(lambda f: f["type"] == "assigned")
    await shopper.close()
    return str(frame["conversation"]["id"])


async def _sign_in(http: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    async with http.post(f"{base}/api/v1/session", json={"token": "alice-token-1234"}) as r:
        assert r.status == 200
        return r.cookies["kefu_agent"].value, (await r.json())["csrf"]


FOREIGN = [
    {"Origin": "http://evil.example"},
    {"Origin": "http://127.0.0.1:1"},                    # same host, another port: same site
    {"Origin": "null"},
    {"Referer": "http://evil.example/page.html"},
    {},                                                   # says nothing about where it comes from
    {"X-Kefu-CSRF": "forged-token"},
]


@pytest.mark.parametrize("headers", FOREIGN, ids=["evil", "other-port", "null", "referer", "none", "bad-token"])
async def test_a_cookie_state_change_from_elsewhere_is_403_and_changes_nothing(
        console: tuple[Runtime, str, aiohttp.ClientSession], headers: dict[str, str]) -> None:
    rt, base, http = console
    alice = await agent(http, base, "alice-token-1234")
    cid = await _conversation(http, base, alice)
    cookie, _ = await _sign_in(http, base)
    jar = {"Cookie": f"kefu_agent={cookie}", **headers}
    async with http.post(f"{base}/api/v1/conversations/{cid}/close", headers=jar) as r:
        assert r.status == 403, await r.text()
    async with http.post(f"{base}/api/v1/agents/alice/status", json={"status": "away"}, headers=jar) as r:
        assert r.status == 403
    async with http.delete(f"{base}/api/v1/session", headers=jar) as r:
        assert r.status == 403
    assert (await rt.store.conversation(cid) or {})["state"] == "assigned"
    assert (await rt.store.agent("alice") or {})["status"] == "online"
    async with http.get(f"{base}/api/v1/session", headers={"Cookie": f"kefu_agent={cookie}"}) as r:
        assert r.status == 200  # still signed in: reading needs no origin
    await alice.close()


@pytest.mark.parametrize("how", ["origin", "referer", "token"])
async def test_our_own_pages_and_the_token_header_still_work(
        console: tuple[Runtime, str, aiohttp.ClientSession], how: str) -> None:
    rt, base, http = console
    alice = await agent(http, base, "alice-token-1234")
    cid = await _conversation(http, base, alice)
    cookie, token = await _sign_in(http, base)
    proof = {"origin": {"Origin": base}, "referer": {"Referer": f"{base}/console"},
             "token": {"X-Kefu-CSRF": token}}[how]
    async with http.post(f"{base}/api/v1/conversations/{cid}/close",
                         headers={"Cookie": f"kefu_agent={cookie}", **proof}) as r:
        assert r.status == 200, await r.text()
    assert (await rt.store.conversation(cid) or {})["state"] == "closed"
    await alice.close()


async def test_bearer_calls_are_unaffected(console: tuple[Runtime, str, aiohttp.ClientSession]) -> None:
    _rt, base, http = console
    alice = await agent(http, base, "alice-token-1234")
    cid = await _conversation(http, base, alice)
    async with http.post(f"{base}/api/v1/conversations/{cid}/close",
                         headers={"Authorization": "Bearer alice-token-1234", "Origin": "http://evil.example"}) as r:
        assert r.status == 200
    await alice.close()
