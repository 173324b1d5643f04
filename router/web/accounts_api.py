"""Sign-in with a password, an agent's own account (password, two-factor, API keys), the
account policy, and the admin's agent operations: POST /api/v1/agents, PATCH /api/v1/agents/{id},
disable, enable, password and two-factor resets (router/accounts/)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kefu_common.errors import AuthError, ProtocolError
from router.accounts.team import require_admin
from router.models import Role
from router.runtime import RUNTIME
from router.web.api import _CALLER, json_body, principal
from router.web.console_api import signed_in_answer
from router.web.proxy import PROXIES

routes = web.RouteTableDef()


def _address(request: web.Request) -> str:
    return request.app[PROXIES].client_address(request)


@routes.post("/api/v1/login")
async def login(request: web.Request) -> web.Response:
    """{id, password[, otp]} -> a session: the token for scripts and the console's cookie."""
    rt = request.app[RUNTIME]
    body = await json_body(request)
    who, epoch = await rt.accounts.login(body.get("id"), body.get("password"), body.get("otp"), _address(request))
    cookie = await rt.sessions.open(who, epoch=epoch, pending=who.pending)
    return await signed_in_answer(request, who, cookie)


@routes.get("/api/v1/login/options")
async def login_options(request: web.Request) -> web.Response:
    """What the sign-in page offers: passwords, and an identity provider when one is set up."""
    oidc = request.app[RUNTIME].settings.accounts.oidc
    return web.json_response({"password": True, "oidc": {"label": oidc.label} if oidc else None})


@routes.get("/api/v1/oidc/start")
async def oidc_start(request: web.Request) -> web.Response:
    """Send the browser to the shop's identity provider."""
    rt = request.app[RUNTIME]
    if rt.oidc is None:
        raise ProtocolError("not_found", "no identity provider is configured", 404)
    raise web.HTTPFound(await rt.oidc.start(_callback_url(request)))


@routes.get("/api/v1/oidc/callback")
async def oidc_callback(request: web.Request) -> web.Response:
    """The provider sends the browser back here: check the id_token, sign the agent in, and go
    on to the console. The agent must exist here and be enabled."""
    rt = request.app[RUNTIME]
    if rt.oidc is None:
        raise ProtocolError("not_found", "no identity provider is configured", 404)
    address = _address(request)
    if request.query.get("error"):
        raise AuthError(f"the identity provider refused: {request.query['error'][:80]}")
    aid, claims = await rt.oidc.finish(request.query.get("state", ""), request.query.get("code", ""))
    try:
        who = await rt.accounts.live(aid, "session")
    except AuthError:
        await rt.account_audit("login.failed", None, address, aid[:64], failed="oidc", subject=str(claims.get("sub")))
        raise
    await rt.account_audit("login", who, address, aid, method="oidc", subject=str(claims.get("sub")))
    cookie = await rt.sessions.open(who, epoch=await rt.accounts.epoch(aid))
    answer = await signed_in_answer(request, who, cookie)
    answer.set_status(302)
    answer.headers["Location"] = "/console"
    return answer


def _callback_url(request: web.Request) -> str:
    configured = request.app[RUNTIME].settings.accounts.oidc
    if configured is not None and configured.redirect_url:
        return configured.redirect_url
    scheme = "https" if request.app[PROXIES].is_https(request) else "http"
    return f"{scheme}://{request.host}/api/v1/oidc/callback"


@routes.get("/api/v1/account")
async def account(request: web.Request) -> web.Response:
    who = principal(request)
    state = await request.app[RUNTIME].accounts.totp_state(who.agent_id)
    return web.json_response({"agent": who.agent_id, "role": who.role.value, "via": who.via,
                              "pending": who.pending or None, "two_factor": state})


@routes.post("/api/v1/account/password")
async def change_password(request: web.Request) -> web.Response:
    who = principal(request)
    body = await json_body(request)
    await request.app[RUNTIME].accounts.change_password(who, body.get("old"), body.get("new"), _address(request))
    return web.json_response({"changed": True})


@routes.post("/api/v1/account/totp")
async def totp_begin(request: web.Request) -> web.Response:
    """Start two-factor enrolment: the QR code (SVG) and the secret, shown this once."""
    who = principal(request)
    if who.via == "key":
        raise ProtocolError("bad_request", "sign in to set up two-factor sign-in", 403)
    return web.json_response(await request.app[RUNTIME].accounts.totp_begin(who))


@routes.post("/api/v1/account/totp/confirm")
async def totp_confirm(request: web.Request) -> web.Response:
    who = principal(request)
    body = await json_body(request)
    found = request.get(_CALLER)
    sid = found[1] if isinstance(found, tuple) else None
    if sid is None and who.via == "session":  # the login token as Bearer: its session id
        sid = request.app[RUNTIME].sessions.session_id(request.headers.get("Authorization", "")[7:])
    await request.app[RUNTIME].accounts.totp_confirm(who, sid, body.get("otp"), _address(request))
    return web.json_response({"enrolled": True})


@routes.get("/api/v1/account/keys")
async def list_keys(request: web.Request) -> web.Response:
    who = principal(request)
    return web.json_response({"keys": await request.app[RUNTIME].accounts.key_list(who.agent_id)})


@routes.post("/api/v1/account/keys")
async def create_key(request: web.Request) -> web.Response:
    """{label, role} -> {id, key}: the key is shown this once and stored only as a hash."""
    who = principal(request)
    body = await json_body(request, required=False)
    made = await request.app[RUNTIME].accounts.key_create(who, body.get("label"), body.get("role"),
                                                          _address(request))
    return web.json_response(made, status=201)


@routes.delete("/api/v1/account/keys/{kid}")
async def revoke_key(request: web.Request) -> web.Response:
    who = principal(request)
    await request.app[RUNTIME].accounts.key_revoke(who, request.match_info["kid"], _address(request))
    return web.json_response({"revoked": request.match_info["kid"]})


@routes.get("/api/v1/accounts/policy")
async def get_policy(request: web.Request) -> web.Response:
    principal(request, Role.SUPERVISOR)
    return web.json_response({"require_2fa": await request.app[RUNTIME].accounts.required_2fa()})


@routes.put("/api/v1/accounts/policy")
async def set_policy(request: web.Request) -> web.Response:
    who = principal(request, Role.ADMIN)
    body = await json_body(request)
    roles = await request.app[RUNTIME].accounts.set_required_2fa(who, body.get("require_2fa"), _address(request))
    return web.json_response({"require_2fa": roles})


# -- the admin's operations on agents ------------------------------------------------------------
def _admin(request: web.Request) -> Any:
    who = principal(request, Role.ADMIN)
    require_admin(who)
    return who


@routes.post("/api/v1/agents")
async def create_agent(request: web.Request) -> web.Response:
    who = _admin(request)
    body = await json_body(request)
    made = await request.app[RUNTIME].team.create(who, body, _address(request))
    return web.json_response(made, status=201)


@routes.patch("/api/v1/agents/{id}")
async def update_agent(request: web.Request) -> web.Response:
    who = _admin(request)
    body = await json_body(request)
    return web.json_response(await request.app[RUNTIME].team.update(who, request.match_info["id"], body,
                                                                    _address(request)))


@routes.post("/api/v1/agents/{id}/disable")
async def disable_agent(request: web.Request) -> web.Response:
    who = _admin(request)
    return web.json_response(await request.app[RUNTIME].team.set_disabled(who, request.match_info["id"], True,
                                                                          _address(request)))


@routes.post("/api/v1/agents/{id}/enable")
async def enable_agent(request: web.Request) -> web.Response:
    who = _admin(request)
    return web.json_response(await request.app[RUNTIME].team.set_disabled(who, request.match_info["id"], False,
                                                                          _address(request)))


@routes.post("/api/v1/agents/{id}/password")
async def reset_password(request: web.Request) -> web.Response:
    """Reset: {} -> a one-time password shown once; {password} sets that one. Ends their sessions."""
    who = _admin(request)
    body = await json_body(request, required=False)
    return web.json_response(await request.app[RUNTIME].team.reset_password(who, request.match_info["id"], body,
                                                                            _address(request)))


@routes.delete("/api/v1/agents/{id}/totp")
async def reset_totp(request: web.Request) -> web.Response:
    """An agent who lost their phone: their two-factor is removed; they enrol again."""
    who = _admin(request)
    await request.app[RUNTIME].team.reset_totp(who, request.match_info["id"], _address(request))
    return web.json_response({"reset": True})
