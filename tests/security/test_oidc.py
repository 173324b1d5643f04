"""Issue 16, item 1: sign-in through the shop's OpenID Connect provider, against a small local
provider (tests/helpers/oidc_provider.py) whose id_token is signed with a key made in the test."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from helpers.accounts import ADMIN_TOKEN, call, create_agent, shop_settings
from helpers.app import running
from helpers.oidc_provider import CLIENT_ID, CLIENT_SECRET, oidc_provider

from router.archive.audit import AuditFilter


def _settings(issuer: str) -> Any:
    return shop_settings(f"accounts:\n  oidc:\n    issuer: {issuer}\n    client_id: {CLIENT_ID}\n"
                         f"    client_secret: {CLIENT_SECRET}\n    label: Shop SSO\n")


async def _sign_in(http: aiohttp.ClientSession, base: str) -> tuple[int, str, aiohttp.ClientResponse | None]:
    """Follow the redirects by hand: start -> provider -> our callback. (status, location, callback)."""
    async with http.get(f"{base}/api/v1/oidc/start", allow_redirects=False) as r:
        assert r.status == 302
        to_provider = r.headers["Location"]
    async with http.get(to_provider, allow_redirects=False) as r:
        assert r.status == 302, await r.text()
        callback = r.headers["Location"]
    assert callback.startswith(f"{base}/api/v1/oidc/callback?")
    async with http.get(callback, allow_redirects=False) as r:
        await r.read()
        return r.status, r.headers.get("Location", ""), r


async def test_sign_in_through_the_provider_opens_a_console_session(redis_url: str) -> None:
    async with oidc_provider() as idp, running(_settings(idp.base), redis_url) as (rt, base), \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await create_agent(http, base, ADMIN_TOKEN, id="carol", name="Carol", pools=["presale"])
        status, _, options = await call(http, "GET", f"{base}/api/v1/login/options")
        assert options["oidc"] == {"label": "Shop SSO"}
        status, location, answer = await _sign_in(http, base)
        assert status == 302 and location == "/console"
        assert answer is not None and "kefu_agent" in answer.cookies
        async with http.get(f"{base}/api/v1/session", headers={"Origin": base}) as r:
            assert r.status == 200 and (await r.json())["agent"]["id"] == "carol"
        entries, _, _ = await rt.audit.query(AuditFilter(action="login"), None, 10)
        assert entries[0]["detail"]["method"] == "oidc" and entries[0]["detail"]["subject"] == "u-1"


@pytest.mark.parametrize("misbehave", ["other_key", "other_audience", "expired", "wrong_nonce"])
async def test_a_bad_id_token_is_refused(redis_url: str, misbehave: str) -> None:
    async with oidc_provider() as idp, running(_settings(idp.base), redis_url) as (_rt, base), \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await create_agent(http, base, ADMIN_TOKEN, id="carol", name="Carol", pools=["presale"])
        idp.misbehave = misbehave
        status, _, answer = await _sign_in(http, base)
        assert status == 401
        assert answer is not None and "kefu_agent" not in answer.cookies


async def test_unknown_or_disabled_agents_and_replayed_callbacks_are_refused(redis_url: str) -> None:
    async with oidc_provider() as idp, running(_settings(idp.base), redis_url) as (_rt, base), \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        idp.user = {"sub": "u-2", "preferred_username": "stranger"}
        assert (await _sign_in(http, base))[0] == 401  # the provider knows them; this shop does not
        await create_agent(http, base, ADMIN_TOKEN, id="carol", name="Carol", pools=["presale"])
        assert (await call(http, "POST", f"{base}/api/v1/agents/carol/disable", ADMIN_TOKEN))[0] == 200
        idp.user = {"sub": "u-1", "preferred_username": "carol"}
        assert (await _sign_in(http, base))[0] == 403
        # A callback replayed (its state taken already) or forged (no state of ours) changes nothing.
        async with http.get(f"{base}/api/v1/oidc/start", allow_redirects=False) as r:
            to_provider = r.headers["Location"]
        async with http.get(to_provider, allow_redirects=False) as r:
            callback = r.headers["Location"]
        async with http.get(callback, allow_redirects=False) as r:
            assert r.status == 403  # carol is disabled; the state is used up all the same
        calls = idp.token_calls
        async with http.get(callback, allow_redirects=False) as r:
            assert r.status == 400 and (await r.json())["error"] == "bad_state"
        async with http.get(f"{base}/api/v1/oidc/callback?code=x&state=forged", allow_redirects=False) as r:
            assert r.status == 400
        assert idp.token_calls == calls  # neither reached the provider
