"""A shop with an admin who signs in with a password, and the calls the account tests share."""

from __future__ import annotations

from typing import Any

import aiohttp

from router.accounts.passwords import hash_password
from router.config.settings import Settings, parse_settings

ADMIN_PASSWORD = "correct horse battery"
ADMIN_TOKEN = "ada-admin-token-1234"
ALICE_TOKEN = "alice-token-1234"
SUE_TOKEN = "sue-token-12345"
_HASH = hash_password(ADMIN_PASSWORD)

SHOP = """
pools:
  - id: presale
  - id: aftersale
agents:
  - id: ada
    name: Ada
    token: {admin_token}
    role: admin
    password_hash: "{hash}"
    pools: []
    max_chats: 0
  - id: alice
    name: Alice
    token: {alice_token}
    pools: [presale]
    max_chats: 5
  - id: sue
    name: Sue
    token: {sue_token}
    role: supervisor
    pools: [aftersale]
    max_chats: 5
worker:
  claim_idle_ms: 1000
ops:
  disconnect_grace_s: 1
{extra}
"""


def shop_yaml(extra: str = "") -> str:
    return SHOP.format(admin_token=ADMIN_TOKEN, alice_token=ALICE_TOKEN, sue_token=SUE_TOKEN, hash=_HASH,
                       extra=extra)


def shop_settings(extra: str = "") -> Settings:
    return parse_settings(shop_yaml(extra), "<test>")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(http: aiohttp.ClientSession, method: str, url: str, token: str | None = None,
               body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], Any]:
    """(status, headers, JSON body) of one call."""
    h = dict(headers or {})
    if token:
        h.update(bearer(token))
    async with http.request(method, url, json=body, headers=h) as r:
        data = await r.json() if r.content_type == "application/json" else await r.text()
        return r.status, dict(r.headers), data


async def login(http: aiohttp.ClientSession, base: str, aid: str, password: str,
                otp: str | None = None) -> tuple[int, dict[str, Any], Any]:
    body: dict[str, Any] = {"id": aid, "password": password}
    if otp is not None:
        body["otp"] = otp
    return await call(http, "POST", f"{base}/api/v1/login", body=body)


async def create_agent(http: aiohttp.ClientSession, base: str, token: str, **fields: Any) -> dict[str, Any]:
    status, _, data = await call(http, "POST", f"{base}/api/v1/agents", token, fields)
    assert status == 201, data
    return dict(data)
