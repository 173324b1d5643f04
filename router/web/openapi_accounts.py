"""The OpenAPI description of sign-in, an agent's own account and the admin's agent operations
(router/web/accounts_api.py); router/web/openapi.py includes it and passes its operation
builder in, so neither module imports the other's internals both ways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Op = Callable[..., dict[str, Any]]
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]

_ROLE = {"enum": ["agent", "supervisor", "admin"]}
_AGENT_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 64}, "role": _ROLE,
    "pools": {"type": "array", "items": {"type": "string"}},
    "skills": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5}},
    "max_chats": {"type": "integer", "minimum": 0, "maximum": 100}}
_AGENT = {"type": "object", "properties": _AGENT_FIELDS}


def accounts_paths(_op: Op) -> dict[str, Any]:
    return {
        "/api/v1/login": {"post": _op(
            "Sign in with id and password (and the TOTP code when enrolled): a session token and the console "
            "cookie; failures are slowed and then locked (429 + Retry-After)", "{agent, token, csrf, pending}",
            body={"type": "object", "required": ["id", "password"], "properties": {
                "id": {"type": "string"}, "password": {"type": "string"}, "otp": {"type": "string"}}},
            auth=False)},
        "/api/v1/login/options": {"get": _op("What the sign-in page offers (passwords, an OIDC provider)",
                                             "{password, oidc}", auth=False)},
        "/api/v1/account": {"get": _op("The caller's account: role, how they signed in, two-factor state",
                                       "{agent, role, via, pending, two_factor}")},
        "/api/v1/account/password": {"post": _op(
            "Change one's own password (the old one is required); other password sessions end", "{changed}",
            body={"type": "object", "required": ["old", "new"], "properties": {
                "old": {"type": "string"}, "new": {"type": "string"}}})},
        "/api/v1/account/totp": {"post": _op(
            "Start two-factor enrolment: otpauth URI, its QR code as SVG and the key, shown once",
            "{uri, qr_svg, secret}")},
        "/api/v1/account/totp/confirm": {"post": _op(
            "Confirm enrolment with a code", "{enrolled}",
            body={"type": "object", "required": ["otp"], "properties": {"otp": {"type": "string"}}})},
        "/api/v1/account/keys": {
            "get": _op("One's API keys (never the key itself)", "{keys: [...]}"),
            "post": _op("Make an API key scoped to a role up to one's own; the key is shown this once",
                        "{id, key, role, label}", status="201",
                        body={"type": "object", "properties": {"label": {"type": "string"}, "role": _ROLE}})},
        "/api/v1/account/keys/{kid}": {"delete": _op(
            "Revoke an API key (one's own; admins: any)", "{revoked}",
            params=[{"name": "kid", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/api/v1/accounts/policy": {
            "get": _op("Roles that must sign in with two-factor (supervisor)", "{require_2fa}"),
            "put": _op("Set the roles that must sign in with two-factor (admin)", "{require_2fa}",
                       body={"type": "object", "required": ["require_2fa"], "properties": {
                           "require_2fa": {"type": "array", "items": _ROLE}}})},
        "/api/v1/agents/{id}": {"patch": _op(
            "Change an agent live on every process: name, role, pools, skills, cap (admin)", "{agent}",
            params=_ID, body=_AGENT)},
        "/api/v1/agents/{id}/disable": {"post": _op(
            "Disable an agent: their chats are handed on, their sessions end (admin)", "{agent, chats_handed_on}",
            params=_ID)},
        "/api/v1/agents/{id}/enable": {"post": _op("Enable a disabled agent (admin)", "{agent}", params=_ID)},
        "/api/v1/agents/{id}/password": {"post": _op(
            "Reset an agent's password: the given one, or a one-time password shown once (admin)",
            "{agent, password}", params=_ID,
            body={"type": "object", "properties": {"password": {"type": "string"}}})},
        "/api/v1/agents/{id}/totp": {"delete": _op("Remove an agent's two-factor enrolment (admin)", "{reset}",
                                                   params=_ID)},
    }


def create_agent_op(_op: Op) -> dict[str, Any]:
    """POST /api/v1/agents, beside the GET of the same path in openapi.py."""
    return _op("Create an agent, live on every process; without a password a one-time one is answered once "
               "(admin)", "{agent, password}", status="201",
               body={"type": "object", "required": ["id"], "properties": {
                   **_AGENT_FIELDS, "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._@-]{0,63}$"},
                   "password": {"type": "string"}}})
