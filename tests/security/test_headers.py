"""Item 15: refusals carry the same protective headers as answers, the Server header names no
versions, and the session cookie's Secure flag follows the scheme the browser used."""

from __future__ import annotations

import aiohttp
from helpers.app import BASIC, running

from router.config.settings import parse_settings

PROTECTIVE = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


async def test_refusals_have_the_headers_of_answers(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5), "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        cases = [
            ("GET", "/api/v1/conversations", {}, 401),                      # no token
            ("GET", "/api/v1/supervisor/overview", {"Authorization": "Bearer alice-token-1234"}, 403),
            ("GET", "/no/such/page", {}, 404),
            ("GET", "/api/v1/customers/nope/history", {"Authorization": "Bearer sue-token-12345"}, 404),
            ("GET", "/ws/agent?token=wrong-token", {}, 401),
            ("GET", "/healthz", {}, 200),
        ]
        for method, path, headers, status in cases:
            async with http.request(method, base + path, headers=headers) as r:
                assert r.status == status, (path, r.status)
                for name in PROTECTIVE:
                    assert name in r.headers, f"{path} ({status}) lacks {name}"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                server = r.headers.get("Server", "")
                assert "Python" not in server and "aiohttp" not in server, server


CONFIG_WEB = BASIC.format(cap=5) + """
web:
  trusted_proxies: [127.0.0.1]
"""


async def _cookie(http: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> str:
    async with http.post(f"{base}/api/v1/session", json={"token": "alice-token-1234"},
                         headers={"Origin": base, **headers}) as r:
        assert r.status == 200, await r.text()
        return r.headers["Set-Cookie"]


async def test_secure_cookie_behind_a_trusted_tls_proxy(redis_url: str) -> None:
    settings = parse_settings(CONFIG_WEB, "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        assert "Secure" in await _cookie(http, base, {"X-Forwarded-Proto": "https"})
        assert "Secure" not in await _cookie(http, base, {})


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5), "<test>")  # no trusted proxies
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        assert "Secure" not in await _cookie(http, base, {"X-Forwarded-Proto": "https"})


async def test_cookie_secure_setting_forces_the_flag(redis_url: str) -> None:
    settings = parse_settings(BASIC.format(cap=5) + "web:\n  cookie_secure: true\n", "<test>")
    async with running(settings, redis_url) as (_rt, base), aiohttp.ClientSession() as http:
        assert "Secure" in await _cookie(http, base, {})


def test_a_bad_trusted_proxy_is_a_positioned_config_error() -> None:
    import pytest

    from kefu_common.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_settings(BASIC.format(cap=5) + "web:\n  trusted_proxies: [not-an-ip]\n", "kefu.yaml")
    assert str(err.value).startswith("kefu.yaml:") and "not-an-ip" in str(err.value)
