"""The console's own API: the session cookie, a customer's history across channels, their orders."""

from __future__ import annotations

import hashlib
from pathlib import Path

import aiohttp
import msgspec
import pytest
from helpers.app import BASIC, basic_settings, running
from helpers.clients import agent, customer, msg_id

from kefu_common.errors import AuthError
from router.auth import AgentTokens, Sessions, SessionSigner
from router.bot.orders import FileOrderService
from router.config.settings import parse_settings
from router.store import Store
from router.web import console_api


def jar() -> aiohttp.CookieJar:
    return aiohttp.CookieJar(unsafe=True)  # the test server is on 127.0.0.1


async def test_sign_in_sets_a_signed_cookie_that_works_for_api_and_socket(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession(cookie_jar=jar()) as s:
        async with s.post(f"{base}/api/v1/session", json={"token": "nope"}) as r:
            assert r.status == 401
            assert set(await r.json()) == {"error", "detail"}
        assert not s.cookie_jar.filter_cookies(base)  # type: ignore[arg-type]
        async with s.post(f"{base}/api/v1/session", json={"token": "alice-token-1234"}) as r:
            assert r.status == 200
            assert (await r.json())["agent"] == {"id": "alice", "name": "Alice", "role": "agent"}
            header = r.headers["Set-Cookie"]
        assert "HttpOnly" in header and "SameSite=Strict" in header
        assert "alice-token-1234" not in header  # the token itself never sits in a cookie
        async with s.get(f"{base}/api/v1/session") as r:
            assert (await r.json())["agent"]["id"] == "alice"
        async with s.get(f"{base}/api/v1/conversations") as r:
            assert r.status == 200
        ws = await s.ws_connect(f"{base}/ws/agent")
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello" and hello["agent"]["id"] == "alice"
        await ws.close()
        async with s.delete(f"{base}/api/v1/session", headers={"Origin": base}) as r:
            assert r.status == 200
        async with s.get(f"{base}/api/v1/session") as r:
            assert r.status == 401


@pytest.mark.parametrize("cookie", ["", "v1.x.1.y", "garbage", "v1.YWxpY2V-MA.99999999999.bad"])
async def test_forged_cookies_are_refused(redis_url: str, cookie: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as s:
        async with s.get(f"{base}/api/v1/session", headers={"Cookie": f"kefu_agent={cookie}"}) as r:
            assert r.status == 401
            assert set(await r.json()) == {"error", "detail"}


async def test_a_customer_session_token_is_not_an_agent_cookie(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as s:
        token, _ = rt.signer.issue("alice")
        async with s.get(f"{base}/api/v1/session", headers={"Cookie": f"kefu_agent={token}"}) as r:
            assert r.status == 401


async def test_cookie_socket_from_another_origin_is_refused(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession(cookie_jar=jar()) as s:
        async with s.post(f"{base}/api/v1/session", json={"token": "alice-token-1234"}) as r:
            assert r.status == 200
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await s.ws_connect(f"{base}/ws/agent", headers={"Origin": "https://evil.example"})


async def _one_conversation(s: aiohttp.ClientSession, base: str, text: str) -> tuple[str, str]:
    """A web chat customer writes; returns (customer id, conversation id) as alice sees them."""
    alice = await agent(s, base, "alice-token-1234")
    cust, _ = await customer(s, base)
    await cust.send({"type": "message", "text": text, "client_msg_id": msg_id()})
    frame = await alice.expect(lambda f: f["type"] == "assigned")
    await alice.close()
    await cust.close()
    return frame["conversation"]["customer_id"], frame["conversation"]["id"]


async def test_history_lists_the_customers_conversations_to_their_agent_and_supervisors(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as s:
        cust, cid = await _one_conversation(s, base, "<b>你好</b> 想问尺码")
        async with s.get(f"{base}/api/v1/customers/{cust}/history",
                         headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200
            body = await r.json()
        assert body["customer"]["id"] == cust
        [conv] = body["conversations"]
        assert conv["id"] == cid and conv["channel"] == "webchat" and conv["chat"]
        assert [m["text"] for m in conv["transcript"]] == ["<b>你好</b> 想问尺码"]
        async with s.get(f"{base}/api/v1/customers/{cust}/history",
                         headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 403  # not bob's customer
        async with s.get(f"{base}/api/v1/customers/{cust}/history",
                         headers={"Authorization": "Bearer sue-token-12345"}) as r:
            assert r.status == 200
        async with s.get(f"{base}/api/v1/customers/nobody/history",
                         headers={"Authorization": "Bearer sue-token-12345"}) as r:
            assert r.status == 404


async def test_orders_come_from_the_order_service_or_the_panel_hides(
        redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_api, "ORDER_SERVICE", lambda rt: None)
    async with running(basic_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as s:
        cust, _ = await _one_conversation(s, base, "我的订单到哪了")
        auth = {"Authorization": "Bearer alice-token-1234"}
        async with s.get(f"{base}/api/v1/customers/{cust}/orders", headers=auth) as r:
            assert r.status == 404
            assert (await r.json())["error"] == "no_order_service"
        orders = tmp_path / "orders.yaml"
        orders.write_text(
            "orders:\n"
            f"  - {{id: '1001', customer_id: {cust}, state: shipped, created_at: '2024-11-11T00:00:00+08:00',\n"
            "     courier: 中通, tracking_no: '7531', items: [{title: 大衣, quantity: 1, price: 599.00}]}\n"
            "  - {id: '1002', customer_id: someone-else, state: paid, created_at: '2024-11-12T00:00:00+08:00'}\n",
            encoding="utf-8")
        service = FileOrderService(orders)
        monkeypatch.setattr(console_api, "ORDER_SERVICE", lambda rt: service)
        async with s.get(f"{base}/api/v1/customers/{cust}/orders", headers=auth) as r:
            assert r.status == 200
            [order] = (await r.json())["orders"]
        assert order["id"] == "1001" and order["state_label"] == "已发货" and order["total"] == "599.00"
        assert order["items"] == [{"title": "大衣", "quantity": 1, "price": "599.00"}]
        async with s.get(f"{base}/api/v1/customers/{cust}/orders",
                         headers={"Authorization": "Bearer bob-token-12345"}) as r:
            assert r.status == 403


async def test_orders_come_from_the_bots_configured_order_service(redis_url: str, tmp_path: Path) -> None:
    """`bot.orders` in the config is the one service both the bot and the console read."""
    (tmp_path / "orders.yaml").write_text(
        "orders:\n  - {id: '9001', customer_id: placeholder, state: paid, created_at: '2024-11-11T00:00:00+08:00'}\n",
        encoding="utf-8")
    text = BASIC.format(cap=5) + "bot:\n  orders: orders.yaml\n"
    async with running(parse_settings(text, "<test>", base_dir=str(tmp_path)), redis_url) as (rt, base), \
            aiohttp.ClientSession() as s:
        cust, _ = await _one_conversation(s, base, "订单9001到哪了")
        service = console_api.order_service(rt)
        assert isinstance(service, FileOrderService) and service is rt.bot.orders
        # The file has no orders for this customer: an empty list, not an error.
        async with s.get(f"{base}/api/v1/customers/{cust}/orders",
                         headers={"Authorization": "Bearer alice-token-1234"}) as r:
            assert r.status == 200 and (await r.json())["orders"] == []


async def test_a_new_token_ends_the_old_sessions_and_the_cookie_does_not_reveal_it(redis_url: str) -> None:
    settings = basic_settings()
    signer = SessionSigner(b"k" * 32, 3600)
    before = AgentTokens(settings.agents)
    alice = before.verify("alice-token-1234")
    store = Store(redis_url)
    await store.open()
    await store.sync_config(settings)  # a session's holder is read live from the agents in Redis
    try:
        sessions = Sessions(store, before, signer)
        cookie = await sessions.open(alice)
        assert (await sessions.verify(cookie))[0].agent_id == alice.agent_id
        fp = hashlib.sha256(b"alice-token-1234").hexdigest()[:16]
        assert fp not in cookie and fp not in str(await store.client.hgetall(store.keys.session(
            sessions.session_id(cookie))))
        rotated = AgentTokens(tuple(msgspec.structs.replace(a, token="alice-new-token-99") if a.id == "alice"
                                    else a for a in settings.agents))
        with pytest.raises(AuthError, match="session has ended"):
            await Sessions(store, rotated, signer).verify(cookie)
        with pytest.raises(AuthError):
            await Sessions(store, before, SessionSigner(b"x" * 32, 3600)).verify(cookie)  # another shop's secret
    finally:
        await store.close()
