"""The customer widget's HTTP side: the /chat page, what the page starts from (the welcome card
and whether anyone is online), the shop's logo, and the leave-a-message endpoint (its socket
frames are in router/web/widget_socket.py).

The /chat page may be framed by the shop's own sites (the embeddable /static/widget.js opens it
in an iframe), so its Content-Security-Policy names `channels.webchat.allowed_origins` in
`frame-ancestors`; every other page stays `'self'` only.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.webchat import customer_message
from kefu_common.errors import AuthError, ProtocolError
from router.config.widget import LOGO_TYPES, logo_file, text_colour
from router.runtime import RUNTIME
from router.web.api import json_body
from router.web.availability import Availability
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


LOGO_PATH = "/api/v1/webchat/logo"
AVAILABILITY: web.AppKey[Availability] = web.AppKey("webchat_availability")


def setup(app: web.Application) -> None:
    rt = app[RUNTIME]
    app[AVAILABILITY] = availability = Availability(rt.store, rt.hub, lambda: rt.bot.hours, lambda: rt.bot.clock())

    async def pushing(app: web.Application) -> AsyncIterator[None]:
        # After the runtime's own context (app.py): the hub is subscribed by then.
        task = asyncio.create_task(availability.run())
        yield
        availability.stop()
        await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(pushing)
    app.router.add_routes(routes)


@routes.get("/api/v1/webchat/widget")
async def widget_start(request: web.Request) -> web.Response:
    """What the chat page draws before its socket opens: the welcome card (name, logo, colour and
    the text colour that reads on it, greeting by language) and `online`, whether any agent is
    online now (no: the page offers the leave-a-message form at once, in hours or not), and
    `availability`: online, nobody or off_hours, as the socket's `availability` frames say it
    when it changes (router/web/availability.py)."""
    rt = request.app[RUNTIME]
    if not rt.settings.channels.webchat.enabled:
        raise ProtocolError("not_found", "web chat is not enabled", 404)
    w = rt.settings.channels.webchat.welcome
    # An admin's upload (the console's set-up tab) wins over the config's file or URL.
    logo = await rt.store.live.logo() or (w.logo if w.logo.startswith("https://") else (LOGO_PATH if w.logo else None))
    name = w.name or rt.settings.channels.webchat.title or rt.settings.shop.name
    welcome = {"name": name, "logo": logo, "colour": w.colour,
               "text_colour": text_colour(w.colour), "greeting": dict(w.greeting)}
    now = await request.app[AVAILABILITY].current()
    return web.json_response({"welcome": welcome, "online": now == "online", "availability": now},
                             headers={"Cache-Control": "no-store"})


@routes.get(LOGO_PATH)
async def logo(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    path = logo_file(rt.settings.channels.webchat.welcome, rt.settings.base_dir)
    if path is None or not path.is_file():
        raise ProtocolError("not_found", "no logo is configured", 404)
    return web.FileResponse(path, headers={"Content-Type": LOGO_TYPES[path.suffix.lower()],
                                           "Cache-Control": "public, max-age=300",
                                           "X-Content-Type-Options": "nosniff"})


@functools.cache
def _widget_strings() -> dict[str, dict[str, str]]:
    strings: dict[str, dict[str, str]] = json.loads(Path(static_dir(), "i18n.json").read_text(encoding="utf-8"))
    return strings


def leave_message_text(name: str, contact: str, message: str, lang: str = "zh") -> str:
    """One plain message the agents on the next shift read like any other, labelled in the
    customer's language (zh unless `lang` is en); the widget's form writes the same shape from
    the same strings (static/i18n.json)."""
    t = _widget_strings()["en" if lang == "en" else "zh"]
    return (f"{t['leave_record']}\n{t['leave_record_name']}{name}\n{t['leave_record_contact']}{contact}"
            f"\n\n{message}")


def _field(body: dict[str, Any], name: str, max_len: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError("bad_request", f'"{name}" must be a non-empty string')
    if len(value) > max_len:
        raise ProtocolError("too_long", f'"{name}" is longer than {max_len} characters',
                            params={"field": name, "limit": max_len})
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
    text = leave_message_text(name, contact, _field(body, "message", rt.settings.limits.max_text_chars),
                              str(body.get("lang") or "zh"))
    if len(text) > rt.settings.limits.max_text_chars:
        raise ProtocolError("too_long", "the message is too long",
                            params={"limit": rt.settings.limits.max_text_chars})
    client_id = body.get("client_msg_id")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= 128:
        raise ProtocolError("bad_request", '"client_msg_id" must be a string of 1-128 characters')
    accepted = await rt.ingestor.ingest(customer_message(visitor, client_id, text, name))
    return web.json_response({"message_id": accepted.message_id}, status=201)
