"""Issue 16, item 1: agent accounts. Passwords (argon2), sign-in that returns a token and the
console cookie, sign-out that ends the session on the server, slowing and locking after failed
sign-ins (429 + Retry-After, each lock audited), TOTP two-factor with a fixed clock, and API keys
scoped to a role, revocable, shown once and stored hashed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pyotp
from helpers.accounts import ADMIN_PASSWORD, ADMIN_TOKEN, ALICE_TOKEN, call, create_agent, login, shop_settings
from helpers.app import running
from helpers.clients import agent

from router.web.agent_ws import SIGNED_OUT


def _recorder(rt: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    real = rt.account_audit.record

    async def record(who: Any, action: str, target: str, **kw: Any) -> None:
        events.append({"who": who, "action": action, "target": target, **kw})
        await real(who, action, target, **kw)

    rt.account_audit.record = record
    return events


async def test_password_sign_in_returns_a_token_and_a_cookie_and_sign_out_ends_it(redis_url: str) -> None:
    async with running(shop_settings("accounts:\n  slow_base_s: 0\n"), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        events = _recorder(rt)
        status, _, data = await login(http, base, "ada", ADMIN_PASSWORD)
        assert status == 200, data
        token = data["token"]
        assert data["agent"] == {"id": "ada", "name": "Ada", "role": "admin"}
        # The token works as a Bearer credential, for the API and the agent socket.
        status, _, me = await call(http, "GET", f"{base}/api/v1/session", token)
        assert status == 200 and me["agent"]["id"] == "ada"
        # The cookie the answer set works for the console (same-origin reads need no CSRF token).
        jar_http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # 127.0.0.1
        try:
            async with jar_http.post(f"{base}/api/v1/login", json={"id": "ada", "password": ADMIN_PASSWORD}) as r:
                assert r.status == 200 and "kefu_agent" in r.cookies
                assert r.cookies["kefu_agent"]["httponly"]
            async with jar_http.get(f"{base}/api/v1/session", headers={"Origin": base}) as r:
                assert r.status == 200
        finally:
            await jar_http.close()
        # Sign-out ends it on the server: the same token is refused at once, and a socket opened
        # with it is closed as signed out.
        sock = await agent(http, base, token)
        status, _, _ = await call(http, "DELETE", f"{base}/api/v1/session", token)
        assert status == 200
        for _ in range(100):
            if sock.ws.closed:
                break
            await asyncio.sleep(0.1)
        assert sock.ws.close_code == SIGNED_OUT
        await sock.close()
        status, _, refused = await call(http, "GET", f"{base}/api/v1/session", token)
        assert status == 401, refused
        # A wrong password and an unknown id get the same answer.
        wrong = await login(http, base, "ada", "not the password")
        nobody = await login(http, base, "nobody", "not the password")
        assert wrong[0] == nobody[0] == 401 and wrong[2] == nobody[2]
        assert [e["action"] for e in events][:2] == ["login", "login"]


async def test_failed_sign_ins_are_slowed_then_locked_with_retry_after(redis_url: str) -> None:
    extra = ("accounts:\n  max_failures: 3\n  address_max_failures: 100\n  slow_base_s: 0.4\n"
             "  slow_max_s: 1\n  lockout_s: 2\n")
    async with running(shop_settings(extra), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        events = _recorder(rt)
        assert (await login(http, base, "ada", "wrong-1"))[0] == 401
        # Straight away: slowed, refused without a password check, with how long to wait.
        status, headers, data = await login(http, base, "ada", ADMIN_PASSWORD)
        assert status == 429 and data["error"] == "slow_down", data
        assert headers["Retry-After"] == "1"
        await asyncio.sleep(0.45)
        assert (await login(http, base, "ada", "wrong-2"))[0] == 401
        status, _, data = await login(http, base, "ada", "wrong-3")
        assert status == 429 and data["error"] == "slow_down"  # the wait doubled to 0.8 s
        await asyncio.sleep(0.85)
        status, headers, data = await login(http, base, "ada", "wrong-3")
        locked_at = time.monotonic()  # at most this late: the lock is set before the answer
        assert status == 429 and data["error"] == "locked", data
        assert headers["Retry-After"] == "2"
        # Locked: even the right password is refused until the lock runs out.
        status, _, data = await login(http, base, "ada", ADMIN_PASSWORD)
        assert status == 429 and data["error"] == "locked"
        await asyncio.sleep(max(0.0, 2.05 - (time.monotonic() - locked_at)))
        status, _, data = await login(http, base, "ada", ADMIN_PASSWORD)
        assert status == 200, data
        locks = [e for e in events if e["action"] == "login.locked"]
        assert len(locks) == 1 and locks[0]["target"] == "ada" and locks[0]["detail"]["locked"] == "acct"
        # A success starts the count again: one more failure is not a lock.
        assert (await login(http, base, "ada", "wrong-4"))[0] == 401


async def test_colleagues_behind_one_address_are_not_slowed_by_a_typo(redis_url: str) -> None:
    """A shop's agents sign in from the office's one address: its failures slow nobody else until
    there are more of them than lock an account (max_failures), then each further one does."""
    extra = "accounts:\n  max_failures: 3\n  address_max_failures: 100\n  slow_base_s: 0.5\n  slow_max_s: 1\n"
    async with running(shop_settings(extra), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        for n in range(1, 4):  # three typos, each another agent's (ids unknown here fail alike)
            assert (await login(http, base, f"agent-{n}", "a typo"))[0] == 401
            status, _, data = await login(http, base, "ada", ADMIN_PASSWORD)  # straight after
            assert status == 200, data
        assert (await login(http, base, "agent-4", "a typo"))[0] == 401  # the address's fourth
        status, headers, data = await login(http, base, "ada", ADMIN_PASSWORD)
        assert status == 429 and data["error"] == "slow_down" and headers["Retry-After"] == "1", data
        await asyncio.sleep(0.55)
        assert (await login(http, base, "ada", ADMIN_PASSWORD))[0] == 200
        assert (await login(http, base, "agent-5", "a typo"))[0] == 401  # the wait doubles
        await asyncio.sleep(0.55)
        status, _, data = await login(http, base, "ada", ADMIN_PASSWORD)
        assert status == 429 and data["error"] == "slow_down", data


async def test_one_address_guessing_many_accounts_is_locked(redis_url: str) -> None:
    extra = "accounts:\n  max_failures: 50\n  address_max_failures: 4\n  slow_base_s: 0\n  lockout_s: 60\n"
    async with running(shop_settings(extra), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        events = _recorder(rt)
        for aid in ("ada", "alice", "sue"):
            assert (await login(http, base, aid, "guess-guess-1"))[0] == 401
        status, headers, data = await login(http, base, "bob", "guess-guess-1")
        assert status == 429 and data["error"] == "locked" and int(headers["Retry-After"]) == 60
        status, _, data = await login(http, base, "ada", ADMIN_PASSWORD)  # from the same address
        assert status == 429 and "address" in data["detail"]
        assert [e["detail"]["locked"] for e in events if e["action"] == "login.locked"] == ["addr"]


async def test_totp_enrolment_and_sign_in_with_a_fixed_clock(redis_url: str) -> None:
    t0 = 1_800_000_000.0  # a fixed instant: codes are computed, not timed
    no_wait = "accounts:\n  slow_base_s: 0\n"  # the refused replay would slow the next try
    async with running(shop_settings(no_wait), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.accounts.totp.clock = lambda: t0
        token = (await login(http, base, "ada", ADMIN_PASSWORD))[2]["token"]
        status, _, enrol = await call(http, "POST", f"{base}/api/v1/account/totp", token)
        assert status == 200
        assert enrol["uri"].startswith("otpauth://totp/kefu-router:ada?") and enrol["qr_svg"].startswith("<svg")
        secret = enrol["secret"]
        code = pyotp.TOTP(secret).at(t0)
        wrong = "000000" if code != "000000" else "111111"
        status, _, data = await call(http, "POST", f"{base}/api/v1/account/totp/confirm", token, {"otp": wrong})
        assert status == 400 and data["error"] == "wrong_code"
        status, _, _ = await call(http, "POST", f"{base}/api/v1/account/totp/confirm", token, {"otp": code})
        assert status == 200
        # From now on the password alone is not enough.
        status, _, data = await login(http, base, "ada", ADMIN_PASSWORD)
        assert status == 401 and data["error"] == "otp_required"
        # The code just used for the enrolment cannot be used again (no replay in its 30 s).
        assert (await login(http, base, "ada", ADMIN_PASSWORD, code))[0] == 401
        rt.accounts.totp.clock = lambda: t0 + 30
        status, _, data = await login(http, base, "ada", ADMIN_PASSWORD, pyotp.TOTP(secret).at(t0 + 30))
        assert status == 200, data
        # One step of drift either way is allowed; two are not.
        rt.accounts.totp.clock = lambda: t0 + 120
        assert (await login(http, base, "ada", ADMIN_PASSWORD, pyotp.TOTP(secret).at(t0 + 150)))[0] == 200
        assert (await login(http, base, "ada", ADMIN_PASSWORD, pyotp.TOTP(secret).at(t0 + 240)))[0] in (401, 429)


async def test_a_role_that_requires_two_factor_must_enrol_before_anything_else(redis_url: str) -> None:
    t0 = 1_800_000_000.0
    async with running(shop_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        rt.accounts.totp.clock = lambda: t0
        made = await create_agent(http, base, ADMIN_TOKEN, id="carol", name="Carol", pools=["presale"],
                                  password="carol-password-1")
        assert made["agent"]["id"] == "carol" and "password" not in made
        # Only an admin sets the policy.
        status, _, _ = await call(http, "PUT", f"{base}/api/v1/accounts/policy", ALICE_TOKEN,
                                  {"require_2fa": ["agent"]})
        assert status == 403
        status, _, data = await call(http, "PUT", f"{base}/api/v1/accounts/policy", ADMIN_TOKEN,
                                     {"require_2fa": ["agent"]})
        assert status == 200 and data["require_2fa"] == ["agent"]
        status, _, data = await login(http, base, "carol", "carol-password-1")
        assert status == 200 and data["pending"] == "enrol"
        token = data["token"]
        status, _, data = await call(http, "GET", f"{base}/api/v1/conversations", token)
        assert status == 403 and data["error"] == "enrol_2fa"
        async with http.get(f"{base}/ws/agent?token={token}") as r:
            assert r.status == 403
        secret = (await call(http, "POST", f"{base}/api/v1/account/totp", token))[2]["secret"]
        status, _, _ = await call(http, "POST", f"{base}/api/v1/account/totp/confirm", token,
                                  {"otp": pyotp.TOTP(secret).at(t0)})
        assert status == 200
        assert (await call(http, "GET", f"{base}/api/v1/conversations", token))[0] == 200


async def test_api_keys_are_scoped_revocable_shown_once_and_stored_hashed(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        status, _, made = await call(http, "POST", f"{base}/api/v1/account/keys", ALICE_TOKEN, {"label": "crm"})
        assert status == 201 and made["role"] == "agent" and made["key"].startswith("kk_")
        key = made["key"]
        assert (await call(http, "GET", f"{base}/api/v1/agents", key))[0] == 200
        # An agent's key cannot create agents, nor make another key, nor one above its owner.
        status, _, data = await call(http, "POST", f"{base}/api/v1/agents", key, {"id": "mallory"})
        assert status == 403, data
        assert (await call(http, "POST", f"{base}/api/v1/account/keys", key, {}))[0] == 403
        assert (await call(http, "POST", f"{base}/api/v1/account/keys", ALICE_TOKEN, {"role": "admin"}))[0] == 403
        # The list shows ids and labels, never the key; Redis holds only its hash.
        status, _, listed = await call(http, "GET", f"{base}/api/v1/account/keys", ALICE_TOKEN)
        assert [k["id"] for k in listed["keys"]] == [made["id"]] and key not in str(listed)
        async for name in rt.store.client.scan_iter(match="*"):
            kind = await rt.store.client.type(name)
            dump = str(await rt.store.client.hgetall(name)) if kind == "hash" else \
                str(await rt.store.client.get(name)) if kind == "string" else ""
            assert key not in dump and key not in name
        # An admin's key scoped to supervisor cannot create agents either; scoped to admin it can.
        sup_key = (await call(http, "POST", f"{base}/api/v1/account/keys", ADMIN_TOKEN, {"role": "supervisor"}))[2]
        assert (await call(http, "POST", f"{base}/api/v1/agents", sup_key["key"], {"id": "mallory"}))[0] == 403
        admin_key = (await call(http, "POST", f"{base}/api/v1/account/keys", ADMIN_TOKEN, {"role": "admin"}))[2]
        await create_agent(http, base, admin_key["key"], id="dave", name="Dave", pools=["presale"])
        # Revoked: refused at once.
        assert (await call(http, "DELETE", f"{base}/api/v1/account/keys/{made['id']}", ALICE_TOKEN))[0] == 200
        assert (await call(http, "GET", f"{base}/api/v1/agents", key))[0] == 401
