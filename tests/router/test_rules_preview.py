"""The rules API tells the console what a rollback would change and who may activate (issue 19,
items 9 and 10); the server still refuses the others."""

from __future__ import annotations

import aiohttp
from helpers.app import BASIC, running

from router.config.settings import parse_settings

ADMIN = """
  - id: ada
    name: Ada
    token: ada-admin-token-1
    role: admin
    pools: [aftersale]
"""
NEW_RULES = "default:\n  pool: aftersale\nrules: []\n"
ADA = {"Authorization": "Bearer ada-admin-token-1"}
SUE = {"Authorization": "Bearer sue-token-12345"}


async def test_rollback_diff_is_against_the_active_version_and_can_activate_follows_the_role(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5).replace("worker:", ADMIN.strip("\n") + "\nworker:"), "<test>")
    async with running(settings, redis_url) as (rt, base), aiohttp.ClientSession() as http:
        first = rt.rules.current.version
        async with http.get(f"{base}/api/v1/rules", headers=ADA) as r:
            etag, body = r.headers["ETag"], await r.json()
            assert body["can_activate"] is True
        async with http.get(f"{base}/api/v1/rules", headers=SUE) as r:
            assert (await r.json())["can_activate"] is False
        async with http.put(f"{base}/api/v1/rules", json={"source": NEW_RULES}, headers={**SUE, "If-Match": etag}) as r:
            assert r.status == 403  # the console hides the button; the server is still the guard
        async with http.put(f"{base}/api/v1/rules", json={"source": NEW_RULES}, headers={**ADA, "If-Match": etag}) as r:
            assert r.status == 200
        second = rt.rules.current.version
        async with http.get(f"{base}/api/v1/rules/versions/{first}", headers=SUE) as r:
            v = await r.json()
        assert v["current"] == second
        assert v["rollback_diff"].startswith(f"--- {second}\n+++ {first}\n")
        assert "-  pool: aftersale\n" in v["rollback_diff"]
        assert "+  pool: aftersale\n" not in v["rollback_diff"]
        async with http.get(f"{base}/api/v1/rules/versions/{second}", headers=SUE) as r:
            assert (await r.json())["rollback_diff"] == ""  # rolling back to the active version changes nothing
