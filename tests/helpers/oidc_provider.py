"""A small OpenID Connect provider on loopback for the OIDC sign-in tests: discovery, an
authorization endpoint that signs in whoever the test names (no login form), a token endpoint that
checks the client secret, the code's redirect URI and PKCE verifier, and a JWKS. The id_token is
signed RS256 with a key made when the provider starts; `misbehave` makes it sign wrongly on
purpose (another key, another audience, a stale token, a wrong nonce)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "kefu-console"
CLIENT_SECRET = "provider-client-secret-123"


@dataclass
class Provider:
    base: str = ""
    user: dict[str, Any] = field(default_factory=lambda: {"sub": "u-1", "preferred_username": "carol"})
    """The claims of whoever signs in next."""
    misbehave: str = ""
    """'' | 'other_key' | 'other_audience' | 'expired' | 'wrong_nonce'."""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_calls: int = 0

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.base, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce, **self.user}
        key = self.key
        if self.misbehave == "other_key":
            key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        elif self.misbehave == "other_audience":
            claims["aud"] = "someone-else"
        elif self.misbehave == "expired":
            claims["exp"] = now - 600
        elif self.misbehave == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.base, "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token", "jwks_uri": f"{self.base}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]})

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code" or \
                q.get("code_challenge_method") != "S256":
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"redirect_uri": q["redirect_uri"], "nonce": q.get("nonce", ""),
                            "challenge": q["code_challenge"]}
        raise web.HTTPFound(f"{q['redirect_uri']}?code={code}&state={q['state']}")

    async def token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        form = await request.post()
        grant = self.codes.pop(str(form.get("code")), None)  # a code works once
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return web.json_response({"error": "invalid_grant", "error_description": "PKCE"}, status=400)
        return web.json_response({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                  "expires_in": 300, "id_token": self.id_token(grant["nonce"])})

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})


@asynccontextmanager
async def oidc_provider() -> AsyncIterator[Provider]:
    provider = Provider()
    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", provider.discovery)
    app.router.add_get("/authorize", provider.authorize)
    app.router.add_post("/token", provider.token)
    app.router.add_get("/jwks", provider.jwks)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    provider.base = f"http://127.0.0.1:{port}"
    try:
        yield provider
    finally:
        await runner.cleanup()
