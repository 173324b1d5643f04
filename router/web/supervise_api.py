"""Supervisors in someone else's conversation (issue 19, router/ops/supervise.py):
`POST /api/v1/conversations/{id}/join` and `POST /api/v1/conversations/{id}/whisper`. Agents get
403 with the reason; both are audited."""

from __future__ import annotations

from aiohttp import web

from kefu_common.errors import ProtocolError
from router.models import Role
from router.ops.supervise import Supervise
from router.runtime import RUNTIME
from router.web.api import json_body, principal
from router.web.proxy import client

routes = web.RouteTableDef()


def _supervise(request: web.Request) -> Supervise:
    rt = request.app[RUNTIME]
    return Supervise(rt.store, rt.transcript, rt.outbox, rt.audit)


@routes.post("/api/v1/conversations/{id}/join")
async def join(request: web.Request) -> web.Response:
    """Join an open conversation: the customer and its agent are told once; replies then go
    through the agent socket's `reply` frame, under the supervisor's own name."""
    who = principal(request, Role.SUPERVISOR)
    joined = await _supervise(request).join(request.match_info["id"], who, addr=client(request))
    return web.json_response({"joined": joined.conversation_id, "agent": joined.agent, "new": joined.new})


@routes.post("/api/v1/conversations/{id}/whisper")
async def whisper(request: web.Request) -> web.Response:
    """A note only the conversation's agent (and supervisors) see; never sent to the customer."""
    who = principal(request, Role.SUPERVISOR)
    rt = request.app[RUNTIME]
    body = await json_body(request)
    text, client_id = body.get("text"), body.get("client_msg_id")
    limit = rt.settings.limits.max_text_chars
    if not isinstance(text, str) or not text.strip() or len(text) > limit:
        raise ProtocolError("bad_request", f'"text" must be a non-empty string of at most {limit} characters')
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= 128:
        raise ProtocolError("bad_request", '"client_msg_id" must be a string of 1 to 128 characters')
    message = await _supervise(request).whisper(request.match_info["id"], who, text, client_id, addr=client(request))
    return web.json_response({"message": message}, status=201)
