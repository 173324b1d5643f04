"""The customer widget's HTTP side: the /chat page and the off-hours leave-a-message endpoint
(its socket frames are in router/web/widget_socket.py).

The /chat page may be framed by the shop's own sites (the embeddable /static/widget.js opens it
in an iframe), so its Content-Security-Policy names `channels.webchat.allowed_origins` in
`frame-ancestors`; every other page stays `'self'` only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.webchat import customer_message
from kefu_common.errors import AuthError, ProtocolError
from router.runtime import RUNTIME
from router.web.api import json_body
from router.web.pages import CSP, static_dir

routes = web.RouteTableDef()

NAME_MAX = 64
CONTACT_MAX = 128


def chat_csp(base: str, allowed_origins: tuple[str, ...]) -> str:
    """`base` with frame-ancestors widened to the shop origins configured for the widget."""
    if not allowed_origins:
        return base
    return base.replace("frame-ancestors 'self'", "frame-ancestors 'self' " + " ".join(allowed_origins))


@routes.get("/chat")
async def chat_page(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    csp = chat_csp(CSP, rt.settings.channels.webchat.allowed_origins)
    return web.FileResponse(f"{static_dir()}/chat.html",
                            headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp})


def leave_message_text(name: str, contact: str, message: str) -> str:
    """One plain message the agents on the next shift read like any other; the widget's
    off-hours form writes the same shape."""
    return f"[留言 / message left]\n姓名 / name: {name}\n联系 / contact: {contact}\n\n{message}"


def _field(body: dict[str, Any], name: str, max_len: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError("bad_request", f'"{name}" must be a non-empty string')
    if len(value) > max_len:
        raise ProtocolError("too_long", f'"{name}" is longer than {max_len} characters')
    return value.strip()


@routes.post("/api/v1/webchat/leave-message")
async def leave_message(request: web.Request) -> web.Response:
    """For pages that collect an off-hours message without the widget's socket: the message is
    queued like any other, so the next shift's agents get it in order."""
    rt = request.app[RUNTIME]
    if not rt.settings.channels.webchat.enabled:
        raise ProtocolError("not_found", "web chat is not enabled", 404)
    body = await json_body(request)
    try:
        visitor = rt.signer.verify(body.get("session") if isinstance(body.get("session"), str) else None)
    except AuthError as exc:
        raise ProtocolError("unauthorized", exc.detail, 401) from None
    name = _field(body, "name", NAME_MAX)
    contact = _field(body, "contact", CONTACT_MAX)
    text = leave_message_text(name, contact, _field(body, "message", rt.settings.limits.max_text_chars))
    if len(text) > rt.settings.limits.max_text_chars:
        raise ProtocolError("too_long", "the message is too long")
    client_id = body.get("client_msg_id")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= 128:
        raise ProtocolError("bad_request", '"client_msg_id" must be a string of 1-128 characters')
    accepted = await rt.ingestor.ingest(customer_message(visitor, client_id, text, name))
    return web.json_response({"message_id": accepted.message_id}, status=201)
