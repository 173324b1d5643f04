"""The JSON API under /api/v1, with Bearer agent tokens. Described at /api/v1/openapi.json."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kefu_common import safejson
from kefu_common.errors import AuthError, ProtocolError
from router.archive.db import DB_ERRORS
from router.auth import Principal
from router.models import Role, could_be_id
from router.ops.approvals import Approvals
from router.ops.desk import Desk
from router.ops.presence import Presence, requested_status
from router.ops.supervise import visible_to
from router.runtime import RUNTIME
from router.web import access, csrf
from router.web.proxy import client

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

routes = web.RouteTableDef()

DESK: web.AppKey[Desk] = web.AppKey("desk")
"""Close, transfer, the assigned frame: what handlers may do to a conversation."""
PRESENCE: web.AppKey[Presence] = web.AppKey("presence")
"""Agents' status and console presence."""
APPROVALS: web.AppKey[Approvals] = web.AppKey("approvals")
"""Discount requests and their answers."""

SESSION_COOKIE = "kefu_agent"
"""The console's signed session id (router.auth.Sessions), set by POST /api/v1/session."""

_CALLER: web.RequestKey[tuple[Principal, str | None] | AuthError] = web.RequestKey("kefu_caller")
"""Where `console_session` leaves the caller (principal, the cookie's session id or None for a
Bearer credential), or the AuthError."""

PENDING_OK = frozenset({"/api/v1/session", "/api/v1/account", "/api/v1/account/totp",
                        "/api/v1/account/totp/confirm"})
"""What a session that must first set up two-factor sign-in may call."""


@web.middleware
async def console_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Look the caller up in Redis before an API handler runs, so `principal` stays a plain
    function: a Bearer credential (API key, sign-in token, config token) or the session cookie.
    Pages and static files skip the lookup."""
    if request.path.startswith("/api/"):
        rt = request.app[RUNTIME]
        header = request.headers.get("Authorization", "")
        cookie = request.cookies.get(SESSION_COOKIE)
        try:
            if header.startswith("Bearer "):
                request[_CALLER] = (await rt.accounts.bearer(header[7:]), None)
            elif cookie:
                request[_CALLER] = await rt.sessions.verify(cookie)
        except AuthError as exc:
            request[_CALLER] = exc
    return await handler(request)


def caller(request: web.Request) -> Principal | AuthError | None:
    """The resolved caller without any check: None when no credential came."""
    found: tuple[Principal, str | None] | AuthError | None = request.get(_CALLER)
    return found if found is None or isinstance(found, AuthError) else found[0]


def cookie_session(request: web.Request) -> tuple[Principal, str]:
    """The signed-in agent and session id behind the cookie; AuthError when there is none."""
    found: tuple[Principal, str | None] | AuthError | None = request.get(_CALLER)
    if isinstance(found, AuthError):
        raise found
    if found is None or found[1] is None:
        raise AuthError("not signed in")
    return found[0], found[1]


def principal(request: web.Request, role: Role = Role.AGENT) -> Principal:
    """The caller, by Bearer credential or session cookie, checked for `role` on the server; a
    cookie's state change must come from our own pages (router/web/csrf.py)."""
    rt = request.app[RUNTIME]
    found: tuple[Principal, str | None] | AuthError | None = request.get(_CALLER)
    if isinstance(found, AuthError):
        raise found
    if found is None:
        raise AuthError("missing token" if not request.cookies.get(SESSION_COOKIE) else "not signed in")
    who, sid = found
    if sid is not None:
        csrf.check(request, rt.sessions.csrf_token(sid))
    if who.pending and request.path not in PENDING_OK:
        raise ProtocolError("enrol_2fa", "your role requires two-factor sign-in: set it up first", 403)
    if not who.can(role):
        raise AuthError(f"needs the {role.value} role", status=403)
    return who


def signed_in(route: web.RouteDef) -> web.RouteDef:
    """`route` behind agent sign-in: how a channel's console endpoints are mounted."""
    handler = route.handler

    async def guarded(request: web.Request) -> web.StreamResponse:
        access.grant(request, request.app[RUNTIME], principal(request))
        return await handler(request)

    return web.RouteDef(route.method, route.path, guarded, route.kwargs)


@routes.get("/api/v1/conversations/{id}")
async def get_conversation(request: web.Request) -> web.Response:
    who = principal(request)
    rt = request.app[RUNTIME]
    cid = request.match_info["id"]
    conv = await rt.store.conversation(cid)
    if conv is None:
        return await _archived_conversation(request, who, cid)
    if not who.can(Role.SUPERVISOR) and conv["agent"] != who.agent_id \
            and not await rt.store.conversations.is_reader(cid, who.agent_id):
        raise AuthError("this conversation is not assigned to you, and no note named you in it", status=403)
    customer = await rt.store.customer(conv["customer_id"] or "")
    messages = visible_to(await rt.transcript.public(cid), who)
    return web.json_response({"conversation": {**conv, "archived": False}, "customer": customer,
                              "messages": messages, "archived": False})


async def _archived_conversation(request: web.Request, who: Principal, cid: str) -> web.Response:
    """Redis let go of it (retention): the archive answers, in the same shape. An id no
    conversation could have is unknown at once: 503 only when the archive might hold it."""
    rt = request.app[RUNTIME]
    if not could_be_id("c", cid):
        raise ProtocolError("not_found", f"no conversation {cid}", 404)
    if not rt.archive.ready.is_set():
        raise ProtocolError("archive_unavailable", "the archive is starting; try again", 503)
    try:
        conv = await rt.archive.conversation(cid)
    except DB_ERRORS:
        raise ProtocolError("archive_unavailable", "the archive database is not reachable; try again", 503) from None
    if conv is None:
        raise ProtocolError("not_found", f"no conversation {cid}", 404)
    readers = conv.pop("readers")
    if not who.can(Role.SUPERVISOR) and who.agent_id not in readers:
        # The same people as while it was live: its agent, agents a note named, those who handed it on.
        raise AuthError("this conversation is not assigned to you, and no note named you in it", status=403)
    messages = visible_to(conv.pop("messages"), who)
    customer = await rt.store.customer(conv["customer_id"]) or {
        "id": conv["customer_id"], "name": conv["customer_name"], "identities": []}
    return web.json_response({"conversation": conv, "customer": customer, "messages": messages, "archived": True})


@routes.get("/api/v1/channels")
async def list_channels(request: web.Request) -> web.Response:
    """The configured channels with their accounts, capabilities and limits, so the console asks
    what a channel can do (a reply quota, live frames) instead of knowing channel names."""
    principal(request)
    out: dict[str, dict[str, Any]] = {}
    for (name, account), adapter in sorted(request.app[RUNTIME].adapters.items()):
        entry = out.setdefault(name, {"channel": name, "accounts": [],
                                      "capabilities": dataclasses.asdict(adapter.capabilities),
                                      "limits": {"max_text_chars": adapter.limits.max_text_chars,
                                                 "max_parts": adapter.limits.max_parts}})
        entry["accounts"].append(account)
    return web.json_response({"channels": list(out.values())})


@routes.get("/api/v1/agents")
async def list_agents(request: web.Request) -> web.Response:
    principal(request)
    return web.json_response({"agents": [a.view() for a in await request.app[RUNTIME].store.agents.all()]})


@routes.post("/api/v1/agents/{id}/status")
async def set_agent_status(request: web.Request) -> web.Response:
    who = principal(request)
    aid = request.match_info["id"]
    if aid != who.agent_id and not who.can(Role.SUPERVISOR):
        raise AuthError("only supervisors set another agent's status", status=403)
    body = await json_body(request)
    rt = request.app[RUNTIME]
    try:
        status, reason = requested_status(body, rt.settings.ops)
    except ProtocolError as exc:
        raise ProtocolError("bad_request", exc.detail) from None
    was = await rt.store.agents.get(aid) if aid != who.agent_id else None
    await request.app[PRESENCE].set_status(aid, status, "api", reason)
    if was is not None:  # a supervisor moving someone else; one's own status is one's work
        await rt.audit.record(who, "agent.status", aid, before=_status_of(was.status.value, was.away_reason),
                              after=_status_of(status, reason), addr=client(request))
    return web.json_response({"agent": await rt.store.agent(aid)})


def _status_of(status: str, reason: str | None) -> dict[str, str]:
    """A status as the audit log keeps it: the reason only where there is one (away)."""
    return {"status": status, "reason": reason} if reason else {"status": status}


@routes.post("/api/v1/conversations/{id}/close")
async def close_conversation(request: web.Request) -> web.Response:
    who = principal(request)
    body = await json_body(request, required=False)
    resolution = str(body.get("resolution") or "resolved")[:64]
    await request.app[DESK].close(request.match_info["id"], who, resolution, addr=client(request))
    return web.json_response({"closed": request.match_info["id"]})


BULK_CLOSE_MAX = 500
"""Chats one bulk close may name: a whole shift's worth, small enough to answer in seconds."""


@routes.post("/api/v1/conversations/bulk-close")
async def bulk_close(request: web.Request) -> web.Response:
    """Close several chats with one request (the console's "Close selected"): each once, each as
    a single close would, with a result per chat. A malformed body changes nothing."""
    who = principal(request)
    body = await json_body(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and 0 < len(i) <= 128 for i in ids):
        raise ProtocolError("bad_request", '"ids" must be a non-empty list of conversation ids')
    if len(ids) > BULK_CLOSE_MAX:
        raise ProtocolError("bad_request", f"at most {BULK_CLOSE_MAX} conversations at once")
    resolution = body.get("resolution", "resolved")
    if not isinstance(resolution, str) or not 0 < len(resolution) <= 64:
        raise ProtocolError("bad_request", '"resolution" must be text of 1-64 characters')
    unique = list(dict.fromkeys(ids))  # named twice, closed once
    results = await request.app[DESK].close_many(unique, who, resolution, addr=client(request))
    return web.json_response({"results": results, "closed": sum(1 for r in results if r["ok"]),
                              "failed": sum(1 for r in results if not r["ok"])})


async def json_body(request: web.Request, required: bool = True) -> dict[str, Any]:
    if not request.can_read_body:
        if required:
            raise ProtocolError("bad_request", "a JSON body is required")
        return {}
    if request.content_type != "application/json":
        raise ProtocolError("bad_request", "Content-Type must be application/json", 415)
    try:
        body = safejson.loads(await request.read())
    except ProtocolError as exc:
        if exc.code == "too_deep":
            raise
        raise ProtocolError("bad_json", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ProtocolError("bad_request", "the body must be a JSON object")
    return body
