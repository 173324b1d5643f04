"""Sign-in through a shop's OpenID Connect provider: the authorization code flow with PKCE.

`start` sends the browser to the provider with a fresh state, nonce and code verifier, kept in
Redis for ten minutes; `finish` takes them back once (a replayed callback finds nothing),
exchanges the code at the token endpoint, and checks the id_token: signature against the
provider's published keys (JWKS), issuer, audience, expiry and nonce. The agent is the value of
the configured claim (`preferred_username` by default); they must already exist and be enabled:
the provider says who someone is, the admin says what they may do here.

authlib builds the request (grant URI, PKCE); the token is checked with joserfc, authlib's own
JOSE library (authlib.jose is deprecated in its favour)."""

from __future__ import annotations

import json
import time
from typing import Any, cast

import aiohttp
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from kefu_common.errors import AuthError, ProtocolError
from router.config.accounts import OidcSettings
from router.store.accounts import AccountRecords

ALGORITHMS = ["RS256", "PS256", "ES256"]
"""Asymmetric only: a shared-secret HS256 token would be signed with the client secret."""
LEEWAY_S = 60
METADATA_TTL_S = 3600


class Oidc:
    def __init__(self, settings: OidcSettings, records: AccountRecords, timeout_s: float = 10.0) -> None:
        self.s = settings
        self.records = records
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._meta: tuple[float, dict[str, Any]] | None = None
        self._keys: KeySet | None = None

    async def _get(self, url: str) -> dict[str, Any]:
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http, http.get(url) as r:
                if r.status != 200:
                    raise ProtocolError("oidc_unavailable", f"the identity provider answered {r.status}", 502)
                found: dict[str, Any] = await r.json(content_type=None)
                return found
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ProtocolError("oidc_unavailable", f"the identity provider is unreachable: {type(exc).__name__}",
                                502) from None

    async def metadata(self) -> dict[str, Any]:
        if self._meta is None or self._meta[0] < time.time():
            meta = await self._get(self.s.issuer.rstrip("/") + "/.well-known/openid-configuration")
            missing = [k for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri") if not meta.get(k)]
            if missing or meta["issuer"].rstrip("/") != self.s.issuer.rstrip("/"):
                raise ProtocolError("oidc_unavailable", "the identity provider's metadata is incomplete or names "
                                                        "another issuer", 502)
            self._meta = (time.time() + METADATA_TTL_S, meta)
        return self._meta[1]

    async def start(self, redirect_uri: str) -> str:
        """Where to send the browser: the provider's authorization endpoint with our state."""
        meta = await self.metadata()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        await self.records.oidc_begin(state, json.dumps({"nonce": nonce, "verifier": verifier,
                                                         "redirect_uri": redirect_uri}))
        return str(prepare_grant_uri(meta["authorization_endpoint"], self.s.client_id, "code", redirect_uri,
                                     self.s.scope, state, nonce=nonce,
                                     code_challenge=create_s256_code_challenge(verifier),
                                     code_challenge_method="S256"))

    async def finish(self, state: str, code: str) -> tuple[str, dict[str, Any]]:
        """(agent id, the id_token's claims) for a callback; AuthError when anything is off."""
        raw = await self.records.oidc_take(state) if state else None
        if raw is None:
            raise ProtocolError("bad_state", "this sign-in has expired or was already used; start again")
        begun = json.loads(raw)
        meta = await self.metadata()
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": begun["redirect_uri"],
                "client_id": self.s.client_id, "client_secret": self.s.secret(), "code_verifier": begun["verifier"]}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as http, \
                    http.post(meta["token_endpoint"], data=body) as r:
                answer = await r.json(content_type=None)
                if r.status != 200 or not isinstance(answer, dict) or not answer.get("id_token"):
                    raise AuthError("the identity provider refused the sign-in")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ProtocolError("oidc_unavailable", f"the identity provider is unreachable: {type(exc).__name__}",
                                502) from None
        claims = await self._verify(str(answer["id_token"]), begun["nonce"], meta)
        who = claims.get(self.s.claim)
        if not isinstance(who, str) or not who:
            raise AuthError(f"the identity provider sent no {self.s.claim}")
        return who, claims

    async def _verify(self, token: str, nonce: str, meta: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):  # a key we have not seen: the provider rotated; fetch once more
            if self._keys is None or attempt == 2:
                self._keys = KeySet.import_key_set(cast(Any, await self._get(meta["jwks_uri"])))
            try:
                decoded = jwt.decode(token, self._keys, algorithms=ALGORITHMS)
                break
            except (JoseError, ValueError) as exc:
                if attempt == 2:
                    raise AuthError(f"the id_token does not verify: {type(exc).__name__}") from None
        claims: dict[str, Any] = dict(decoded.claims)
        now = time.time()
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if str(claims.get("iss", "")).rstrip("/") != self.s.issuer.rstrip("/"):
            raise AuthError("the id_token names another issuer")
        if self.s.client_id not in auds:
            raise AuthError("the id_token is for another client")
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] + LEEWAY_S < now:
            raise AuthError("the id_token has expired")
        if claims.get("nonce") != nonce:
            raise AuthError("the id_token's nonce does not match this sign-in")
        return claims
