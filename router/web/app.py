"""The aiohttp application: routes, error mapping, security headers and lifecycle."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import WSCloseCode, web
from redis.exceptions import ResponseError

from kefu_common.errors import ProtocolError, SignInLocked, StoreError, StoreUnavailable
from router.pipeline.streams import dead_letter_counts
from router.runtime import RUNTIME, Runtime
from router.store.client import REDIS_ERRORS
from router.web import (
    accounts_api,
    admin_api,
    api,
    audit_api,
    bot_api,
    chat_socket,
    console_api,
    customers_api,
    history_api,
    media_api,
    metrics,
    openapi,
    ops_api,
    pictures_api,
    reports_api,
    rules_api,
    rules_builder_api,
    sla_api,
    supervise_api,
    webhooks_api,
    widget,
)
from router.web.agent_ws import agent_ws
from router.web.api import APPROVALS, DESK, PRESENCE
from router.web.pages import CSP, page, static_dir
from router.web.proxy import PROXIES, Proxies

log = logging.getLogger("kefu.web")

UNAVAILABLE_RETRY_S = 2.0
"""The Retry-After of a 503 when Redis is down or stalled."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = ["CSP", "build_app", "errors", "page", "security_headers", "static_dir"]


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal is JSON {error, detail} with a 4xx; nothing else changes. Redis down or
    stalled is 503 with Retry-After: WeChat and Telegram retry a 5xx, and ingest is idempotent."""
    try:
        return await handler(request)
    except SignInLocked as exc:
        body = {**exc.params, "error": exc.code, "detail": exc.detail, "retry_after": math.ceil(exc.retry_after)}
        return web.json_response(body, status=exc.status,
                                 headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))})
    except ProtocolError as exc:
        return web.json_response({**exc.params, "error": exc.code, "detail": exc.detail}, status=exc.status)
    except (StoreError, *REDIS_ERRORS) as exc:
        if isinstance(exc, ResponseError):
            raise  # Redis refused the command itself: a bug to fix, not a store to wait for
        retry = exc.retry_after if isinstance(exc, StoreUnavailable) else UNAVAILABLE_RETRY_S
        log.warning("%s %s: Redis unavailable: %s", request.method, request.path, exc)
        return web.json_response(
            {"error": "unavailable", "detail": "the message store is unavailable; try again shortly"},
            status=503, headers={"Retry-After": str(max(1, round(retry)))})


SERVER = "kefu-router"
"""The Server header: the product, without the Python and aiohttp versions that aiohttp sends."""


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every answer as it is sent, refusals and 404s included: a middleware never sees the
    HTTPExceptions the router and the socket handlers raise."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers["Server"] = SERVER


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not await rt.store.ping():
        return web.json_response({"status": "unavailable", "reason": "Redis does not answer"}, status=503)
    ok, reason = rt.ready
    dead = await dead_letter_counts(rt.store)  # not a reason to be unready: the loops went on
    if not ok:
        return web.json_response({"status": "unavailable", "reason": reason, "dead_letters": dead}, status=503)
    return web.json_response({"status": "ready", "dead_letters": dead})


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(openapi.spec())


def build_app(rt: Runtime) -> web.Application:
    """An app whose runtime starts with the server and stops with it."""
    app = web.Application(middlewares=[errors, api.console_session],
                          client_max_size=rt.settings.limits.max_body_bytes)
    app[RUNTIME] = rt
    app[DESK] = rt.desk
    app[PRESENCE] = rt.presence
    app[APPROVALS] = rt.approvals
    app[PROXIES] = Proxies(rt.settings.web)
    app.on_response_prepare.append(security_headers)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with rt:
            yield

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics.metrics)
    if rt.role == "worker":
        # A worker takes no webhooks and holds no sockets: a load balancer must not send it any.
        return app
    for adapter in rt.adapters.values():
        app.router.add_routes(adapter.routes())
        app.router.add_routes([api.signed_in(route) for route in adapter.console_routes()])
        feed = adapter.customer_feed()
        if feed is not None:
            app.router.add_routes(chat_socket.routes(adapter, feed))
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/console", page("console.html"))
    app.router.add_get("/", page("index.html"))
    # Browsers ask for it on every page; without it each page logs a 404.
    app.router.add_get("/favicon.ico", page("favicon.svg"))
    app.router.add_get("/ws/agent", agent_ws)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_routes(api.routes)
    app.router.add_routes(console_api.routes)
    app.router.add_routes(accounts_api.routes)
    app.router.add_routes(customers_api.routes)
    app.router.add_routes(ops_api.routes)
    app.router.add_routes(rules_api.routes)
    app.router.add_routes(rules_builder_api.routes)
    app.router.add_routes(sla_api.routes)
    widget.setup(app)
    app.router.add_routes(reports_api.routes)
    app.router.add_routes(history_api.routes)
    app.router.add_routes(supervise_api.routes)
    app.router.add_routes(bot_api.routes)
    app.router.add_routes(media_api.routes)
    app.router.add_routes(pictures_api.routes)
    app.router.add_routes(webhooks_api.routes)
    app.router.add_routes(audit_api.routes)
    app.router.add_routes(admin_api.routes)
    app.router.add_static("/static", static_dir(), append_version=False)
    return app


async def _close_sockets(app: web.Application) -> None:
    """On shutdown, tell every browser we are going away (1001), so it reconnects elsewhere."""
    rt = app[RUNTIME]
    for ws in list(rt.sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
