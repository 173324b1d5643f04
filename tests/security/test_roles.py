"""Issue 16, Security: roles are checked on the server for every route and frame. Every API route
refuses a caller with no credential; the admin's routes refuse agents, supervisors and keys
scoped below admin; a supervisor changes rules only when the shop grants it; a frame above the
socket's role is refused."""

from __future__ import annotations

import re

import aiohttp
from helpers.accounts import ADMIN_TOKEN, ALICE_TOKEN, SUE_TOKEN, call, shop_settings
from helpers.app import running
from helpers.clients import agent

PUBLIC = {
    ("POST", "/api/v1/login"), ("GET", "/api/v1/login/options"), ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/oidc/start"), ("GET", "/api/v1/oidc/callback"),
    ("DELETE", "/api/v1/session"),  # sign-out: without a session it only clears the cookie
}
"""API routes anyone may call: signing in, and the description of the API."""
CUSTOMER = re.compile(r"^/api/v1/(webchat|widget|chat)")
"""The web chat customer's own API (their signed session, not staff sign-in: tests/security/...)."""

ADMIN_ONLY = [
    ("POST", "/api/v1/agents", {"id": "eve", "pools": []}),
    ("PATCH", "/api/v1/agents/alice", {"max_chats": 9}),
    ("POST", "/api/v1/agents/alice/disable", None),
    ("POST", "/api/v1/agents/alice/enable", None),
    ("POST", "/api/v1/agents/alice/password", {}),
    ("DELETE", "/api/v1/agents/alice/totp", None),
    ("PUT", "/api/v1/accounts/policy", {"require_2fa": []}),
    ("GET", "/api/v1/audit", None),
    ("GET", "/api/v1/webhooks", None),
    ("POST", "/api/v1/webhooks", {"url": "https://hooks.example.com/in"}),
    ("GET", "/api/v1/webhooks/x1/deliveries", None),
    ("PUT", "/api/v1/webchat/logo", None),
    ("DELETE", "/api/v1/webchat/logo", None),
    ("GET", "/api/v1/webchat/logo/uploaded", None),
]


async def test_every_api_route_refuses_a_caller_without_credentials(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        app_routes = rt_app_routes(rt)
        assert len(app_routes) > 40
        open_ones = []
        for method, path in app_routes:
            if (method, path) in PUBLIC or CUSTOMER.match(path) or not path.startswith("/api/"):
                continue
            url = base + re.sub(r"\{[^}]+\}", "x1", path)
            async with http.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None) as r:
                if r.status not in (401, 403):
                    open_ones.append((method, path, r.status))
        assert open_ones == []


def rt_app_routes(rt: object) -> list[tuple[str, str]]:
    """Every (method, path) of the app, as build_app mounts them."""
    from router.web.app import build_app

    app = build_app(rt)  # type: ignore[arg-type]
    out = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path and route.method not in ("HEAD", "OPTIONS"):
            out.append((route.method, str(path)))
    return sorted(set(out))


async def test_admin_routes_refuse_every_other_role(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        sup_key = (await call(http, "POST", f"{base}/api/v1/account/keys", ADMIN_TOKEN, {"role": "supervisor"}))[2]
        for token in (ALICE_TOKEN, SUE_TOKEN, sup_key["key"]):
            for method, path, body in ADMIN_ONLY:
                status, _, data = await call(http, method, base + path, token, body)
                assert status == 403, (token[:6], method, path, data)
        listed = (await call(http, "GET", f"{base}/api/v1/agents", ADMIN_TOKEN))[2]["agents"]
        alice = next(a for a in listed if a["id"] == "alice")
        assert alice["max_chats"] == 5 and not alice["disabled"]  # nothing changed


async def test_supervisors_change_rules_only_when_the_shop_grants_it(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        status, _, _ = await call(http, "GET", f"{base}/api/v1/rules", SUE_TOKEN)
        assert status == 200
        status, _, data = await call(http, "PUT", f"{base}/api/v1/rules", SUE_TOKEN, {"source": "rules: []"})
        assert status == 403 and "admin" in data["detail"]
        assert (await call(http, "POST", f"{base}/api/v1/rules/rollback/1", SUE_TOKEN))[0] == 403
    granted = shop_settings("accounts:\n  supervisors_edit_rules: true\n")
    async with running(granted, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        status, _, data = await call(http, "PUT", f"{base}/api/v1/rules", SUE_TOKEN, {"source": "rules: []"})
        assert status != 403, data
        assert (await call(http, "PUT", f"{base}/api/v1/rules", ALICE_TOKEN, {"source": "rules: []"}))[0] == 403


async def test_a_frame_above_the_sockets_role_is_refused(redis_url: str) -> None:
    async with running(shop_settings(), redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        alice = await agent(http, base, ALICE_TOKEN)
        await alice.send({"type": "approval_answer", "id": "ap_1", "approved": True})
        err = await alice.expect(lambda f: f["type"] == "error")
        assert err["code"] == "forbidden" and "supervisor" in err["detail"]
        await alice.close()
