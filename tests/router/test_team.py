"""Issue 16, item 2 (agents): the admin creates and changes agents over the API, live on every
process with no restart; disabling ends the agent's sessions and hands their open chats on through
the same path as going offline; the config seeds Redis but never overwrites a live edit."""

from __future__ import annotations

import aiohttp
from helpers.accounts import ADMIN_TOKEN, ALICE_TOKEN, SUE_TOKEN, call, create_agent, login, shop_settings
from helpers.app import running
from helpers.clients import Socket, agent, customer, msg_id

from router.web.agent_ws import SIGNED_OUT


async def test_created_on_one_process_signs_in_on_another_takes_chats_and_disabling_hands_them_on(
        redis_url: str) -> None:
    settings = shop_settings()
    async with running(settings, redis_url) as (_a, one), running(settings, redis_url) as (_b, two), \
            aiohttp.ClientSession() as http:
        made = await create_agent(http, one, ADMIN_TOKEN, id="carol", name="Carol", role="agent",
                                  pools=["presale", "aftersale"], skills={"presale": 4}, max_chats=3)
        password = made["password"]  # none given: a one-time password, shown this once
        assert made["agent"]["max_chats"] == 3 and made["agent"]["skills"] == {"presale": 4}
        status, _, data = await login(http, two, "carol", password)
        assert status == 200, data
        carol_token = data["token"]
        carol = await agent(http, two, carol_token)
        cust, _ = await customer(http, two)
        await cust.send({"type": "message", "text": "这件外套有M码吗", "client_msg_id": msg_id()})
        got = await carol.expect(lambda f: f["type"] == "assigned", timeout=30)
        cid = got["conversation"]["id"]
        # Alice (presale) comes online; then the admin disables Carol on the other process.
        alice = await agent(http, one, ALICE_TOKEN)
        status, _, data = await call(http, "POST", f"{one}/api/v1/agents/carol/disable", ADMIN_TOKEN)
        assert status == 200 and data["chats_handed_on"] == 1 and data["agent"]["disabled"] is True
        handed = await alice.expect(lambda f: f["type"] == "assigned" and f["conversation"]["id"] == cid, timeout=30)
        assert handed["conversation"]["agent"] == "alice"
        await carol.expect(lambda f: f["type"] == "unassigned" and f["conversation_id"] == cid)
        await _closed_with(carol, SIGNED_OUT)
        # Signed out everywhere, and no new sign-in, nor going online by a supervisor.
        assert (await call(http, "GET", f"{two}/api/v1/session", carol_token))[0] == 401
        assert (await login(http, one, "carol", password))[0] == 403
        status, _, data = await call(http, "POST", f"{two}/api/v1/agents/carol/status", SUE_TOKEN,
                                     {"status": "online"})
        assert status == 409 and data["error"] == "agent_disabled"
        # Enabled again: signs in (offline until their console connects).
        assert (await call(http, "POST", f"{two}/api/v1/agents/carol/enable", ADMIN_TOKEN))[0] == 200
        assert (await login(http, one, "carol", password))[0] == 200
        for s in (cust, alice):
            await s.close()


async def _closed_with(sock: Socket, code: int) -> None:
    await sock.ws.receive(timeout=10) if not sock.ws.closed else None
    await sock.close()
    assert sock.ws.close_code == code


async def test_a_disabled_config_agent_is_refused_with_their_token(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        assert (await call(http, "POST", f"{base}/api/v1/agents/alice/disable", ADMIN_TOKEN))[0] == 200
        status, _, data = await call(http, "GET", f"{base}/api/v1/conversations", ALICE_TOKEN)
        assert status == 403 and "disabled" in data["detail"]
        async with http.get(f"{base}/ws/agent?token={ALICE_TOKEN}") as r:
            assert r.status == 403
        # An admin cannot disable themselves (someone must be left to enable them).
        assert (await call(http, "POST", f"{base}/api/v1/agents/ada/disable", ADMIN_TOKEN))[0] == 400


async def test_edits_are_live_and_checked_and_only_admins_make_them(redis_url: str) -> None:
    settings = shop_settings()
    async with running(settings, redis_url) as (_a, one), running(settings, redis_url) as (_b, two), \
            aiohttp.ClientSession() as http:
        status, _, data = await call(http, "PATCH", f"{one}/api/v1/agents/alice", ADMIN_TOKEN,
                                     {"name": "Alice Wang", "role": "supervisor", "pools": ["aftersale"],
                                      "skills": {"refund": 5}, "max_chats": 8})
        assert status == 200, data
        status, _, listed = await call(http, "GET", f"{two}/api/v1/agents", SUE_TOKEN)
        alice = next(a for a in listed["agents"] if a["id"] == "alice")
        assert (alice["name"], alice["role"], alice["pools"], alice["skills"], alice["max_chats"]) == (
            "Alice Wang", "supervisor", ["aftersale"], {"refund": 5}, 8)
        # Her config token now carries the new role on the other process at once.
        status, _, me = await call(http, "GET", f"{two}/api/v1/session", ALICE_TOKEN)
        assert me["agent"]["role"] == "supervisor"
        for body, word in (({"pools": ["nowhere"]}, "nowhere"), ({"skills": {"x": 9}}, "skills"),
                           ({"max_chats": -1}, "max_chats"), ({"role": "god"}, "role"), ({"token": "x"}, "token")):
            status, _, data = await call(http, "PATCH", f"{one}/api/v1/agents/alice", ADMIN_TOKEN, body)
            assert status == 400 and word in data["detail"], (body, data)
        # Supervisors and agents may not create or change agents.
        for token in (SUE_TOKEN, ALICE_TOKEN):
            assert (await call(http, "POST", f"{one}/api/v1/agents", token, {"id": "eve"}))[0] == 403
            assert (await call(http, "PATCH", f"{one}/api/v1/agents/sue", token, {"max_chats": 50}))[0] == 403
            assert (await call(http, "POST", f"{one}/api/v1/agents/sue/password", token, {}))[0] == 403
        assert (await call(http, "PATCH", f"{one}/api/v1/agents/nobody", ADMIN_TOKEN, {"name": "X"}))[0] == 404
        status, _, data = await call(http, "POST", f"{one}/api/v1/agents", ADMIN_TOKEN, {"id": "alice"})
        assert status == 409


async def test_the_config_seeds_redis_but_never_overwrites_a_live_edit(redis_url: str) -> None:
    settings = shop_settings()
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        await call(http, "PATCH", f"{base}/api/v1/agents/alice", ADMIN_TOKEN, {"name": "Alice Live", "max_chats": 2})
        await create_agent(http, base, ADMIN_TOKEN, id="carol", name="Carol", pools=["presale"], password="carol-pass-123")
    # A restart with the same file: alice keeps her edit, carol is still there, sue follows the file.
    async with running(shop_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        agents = {a.id: a for a in await rt.store.agents.all()}
        assert agents["alice"].name == "Alice Live" and agents["alice"].max_chats == 2
        assert "carol" in agents and agents["sue"].name == "Sue"
        assert (await login(http, base, "carol", "carol-pass-123"))[0] == 200


async def test_a_password_reset_ends_the_old_sessions_and_hands_out_a_new_one(redis_url: str) -> None:
    async with running(shop_settings("accounts:\n  slow_base_s: 0\n"), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        await create_agent(http, base, ADMIN_TOKEN, id="carol", name="Carol", pools=["presale"], password="carol-pass-123")
        token = (await login(http, base, "carol", "carol-pass-123"))[2]["token"]
        status, _, data = await call(http, "POST", f"{base}/api/v1/agents/carol/password", ADMIN_TOKEN, {})
        assert status == 200 and len(data["password"]) >= 12
        assert (await call(http, "GET", f"{base}/api/v1/session", token))[0] == 401
        assert (await login(http, base, "carol", "carol-pass-123"))[0] == 401
        assert (await login(http, base, "carol", data["password"]))[0] == 200
        # Weak passwords are refused, and the answer never repeats them.
        status, _, data = await call(http, "POST", f"{base}/api/v1/agents/carol/password", ADMIN_TOKEN,
                                     {"password": "carol"})
        assert status == 400 and data["error"] == "weak_password" and "carol" not in data["detail"]
