"""The web chat customer's side of the server: sessions and the socket, over the web chat
adapter's feed (adapters/webchat.py, through `CustomerFeed`).

The adapter keeps what a visitor was shown; this module signs visitors in, relays their frames,
and gives a (re)connecting page its history after `last_seen`, then live frames, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Sequence
from typing import Any

from aiohttp import WSMsgType, web

from adapters.base import Adapter, CustomerFeed
from kefu_common import safejson
from kefu_common.errors import AuthError, ProtocolError, StoreError, StoreUnavailable
from router.pipeline.tap import Tap, as_is
from router.runtime import RUNTIME
from router.store.client import REDIS_ERRORS
from router.web import frames, media_api, slow
from router.web.proxy import PROXIES
from router.web.ratelimit import ChatLimits
from router.web.widget import AVAILABILITY
from router.web.widget_socket import CustomerSide

log = logging.getLogger("kefu.webchat")

RETRY_AFTER_S = 2.0
"""The retry hint of an error frame when Redis is down, stalled or busy."""
INTERNAL_RETRY_S = 5.0
TRY_AGAIN_LATER = 1013
"""WebSocket close code: the server cannot serve this socket now; reconnect later."""


def routes(adapter: Adapter, feed: CustomerFeed) -> Sequence[web.RouteDef]:
    return ChatSocket(adapter, feed).routes()


class ChatSocket:
    def __init__(self, adapter: Adapter, feed: CustomerFeed) -> None:
        self.adapter = adapter
        self.feed = feed
        self.channel = adapter.channel
        self._limits: ChatLimits | None = None

    def limits(self, request: web.Request) -> ChatLimits:
        if self._limits is None:
            r = request.app[RUNTIME].settings.rate_limits
            self._limits = ChatLimits(r.customer_messages, r.address_messages, r.address_sessions,
                                      r.customer_connects, enabled=r.enabled, exempt=r.exempt_addresses)
        return self._limits

    def routes(self) -> Sequence[web.RouteDef]:
        return [
            web.post(f"/api/v1/{self.channel}/sessions", self.new_session),
            web.post(f"/api/v1/{self.channel}/uploads", self.upload),
            web.get("/ws/chat", self.socket),
        ]

    async def new_session(self, request: web.Request) -> web.Response:
        _refuse_fast(self.limits(request).session(request.app[PROXIES].client_address(request)),
                     "too many new chat sessions from this address")
        name = ""
        if request.can_read_body:
            with contextlib.suppress(ValueError):
                body = safejson.loads(await request.read())
                if isinstance(body, dict) and isinstance(body.get("name"), str):
                    name = body["name"][:64]
        token, visitor = request.app[RUNTIME].signer.issue()
        return web.json_response({"session": token, "visitor": visitor, "name": name}, status=201)

    async def upload(self, request: web.Request) -> web.Response:
        """A photo or file to send in a message frame (`media_id`); counted as a message by the
        customer's rate limit."""
        visitor = media_api.customer_visitor(request)
        wait = self.limits(request).message(visitor, request.app[PROXIES].client_address(request))
        return await media_api.webchat_upload(request, self.channel, wait)

    async def socket(self, request: web.Request) -> web.StreamResponse:
        rt = request.app[RUNTIME]
        try:
            visitor = rt.signer.verify(request.query.get("session"))
        except AuthError as exc:
            raise web.HTTPUnauthorized(text=frames.error("unauthorized", exc.detail),
                                       content_type="application/json") from None
        _refuse_fast(self.limits(request).connect(visitor), "this chat reconnects too often")
        address = request.app[PROXIES].client_address(request)
        ws = web.WebSocketResponse(max_msg_size=rt.settings.limits.max_frame_bytes, heartbeat=30)
        await ws.prepare(request)
        feed_address = f"{self.channel}:{visitor}"
        tap = Tap(feed_address, as_is, ws.send_str, lambda t, after: self._replay(visitor, t, after),
                  slow.drain(rt.settings.limits), slow.closer(ws, request))
        rt.hub.add_customer(feed_address, tap)
        rt.sockets.add(ws)
        side = CustomerSide(rt, visitor)
        try:
            try:
                # The three reads at once: a reconnect storm at the peak runs thousands of these,
                # and each read in turn was a round trip more per page.
                availability = request.app[AVAILABILITY]
                snapshot, (after, entries), now = await asyncio.gather(
                    side.snapshot(), self.feed.since(visitor, request.query.get("last_seen") or ""),
                    availability.current())
                tap.offer("-", snapshot)  # held: sent after the replayed history
                # Whether anyone can answer now; from here on each change comes as it happens.
                tap.offer("-", availability.told(tap, now))
                tap.start_at(after)
                tap.replayed(entries)
            except (StoreError, *REDIS_ERRORS, OSError, TimeoutError) as exc:
                # Redis is down or stalled: say so and when to come back, never a bare 1006.
                log.warning("web chat connect: Redis unavailable: %s", exc)
                await ws.send_str(unavailable_frame())
                await ws.close(code=TRY_AGAIN_LATER, message=b"store unavailable, reconnect later")
                return ws
            tap.go_live()
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._handle(request, ws, visitor, address, request.query.get("name", ""), msg.data, side)
                elif msg.type is WSMsgType.BINARY:
                    await ws.send_str(frames.error("bad_frame", "binary frames are not accepted"))
        finally:
            rt.sockets.discard(ws)
            rt.hub.remove_customer(feed_address, tap)
            await tap.close()
        return ws

    async def _replay(self, visitor: str, tap: Tap, after: str) -> None:
        entries = await self.feed.replay(visitor, after)
        tap.start_at(after)
        tap.replayed(entries)

    async def _handle(self, request: web.Request, ws: web.WebSocketResponse, visitor: str, address: str,
                      name: str, text: str, side: CustomerSide) -> None:
        frame: dict[str, Any] = {}
        try:
            frame = frames.parse(text)
            kind = frame["type"]
            if kind == "ping":
                await ws.send_str(frames.dump({"type": "pong"}))
                return
            if kind in side.kinds:
                answer = await side.handle(frame)
                if answer:
                    await ws.send_str(frames.dump(answer))
                return
            if kind != "message":
                raise ProtocolError("unknown_type", f"unknown frame type {kind!r}")
            rt = request.app[RUNTIME]
            media_id = frames.text_field(frame, "media_id", max_len=64, required=False)
            body = frames.text_field(frame, "text", max_len=rt.settings.limits.max_text_chars,
                                     required=not media_id)
            client_id = frames.text_field(frame, "client_msg_id")
            # The name the customer typed into a form (leave a message): the agents' name for them.
            name = frames.text_field(frame, "name", max_len=64, required=False).strip() or name
            media = await media_api.customer_owns(rt.media, rt, visitor, media_id) if media_id else None
            wait = self.limits(request).message(visitor, address)
            if wait:
                # Not taken, not stored: the page holds the message and sends it after the wait.
                await ws.send_str(frames.error("rate_limited", "too many messages; this one goes again shortly",
                                               retry_after=_hint(wait), ref=client_id))
                return
            # A visitor with no customer yet: the line is decided as it is taken in (Ingestor).
            accepted = await self.adapter.sink.ingest(self.feed.inbound(visitor, client_id, body, name, media),
                                                      new_sender=side.unknown)
            side.unknown = False
            await ws.send_str(frames.dump({"type": "ack", "client_msg_id": client_id,
                                           "message_id": accepted.message_id}))
        except ProtocolError as exc:
            # Echo the client_msg_id, so the page can mark that one message as refused.
            await ws.send_str(frames.error(exc.code, exc.detail, **exc.params, **_ref(frame)))
        except (StoreError, *REDIS_ERRORS, OSError, TimeoutError) as exc:
            # Not accepted, and the page keeps the message pending: it resends after the hint,
            # and the (visitor, client_msg_id) key makes a resend of one that did land a no-op.
            log.warning("web chat frame from %s: Redis unavailable: %s", visitor, exc)
            retry = exc.retry_after if isinstance(exc, StoreUnavailable) else RETRY_AFTER_S
            await ws.send_str(unavailable_frame(retry, **_ref(frame)))
        except Exception:
            # A bug must not cost the customer the socket (a bare 1006) or the message: the page
            # keeps it pending and tries again.
            log.exception("web chat frame from %s failed", visitor)
            await ws.send_str(frames.error("internal", "the message could not be taken; it will be sent again",
                                           retry_after=INTERNAL_RETRY_S, **_ref(frame)))


def _hint(wait: float) -> float:
    """Seconds to wait, rounded up to 10 ms: never 0, which would read as 'no hint'."""
    return math.ceil(wait * 100) / 100


def _refuse_fast(wait: float, why: str) -> None:
    if wait:
        raise web.HTTPTooManyRequests(
            text=json.dumps({"error": "rate_limited", "detail": why, "retry_after": _hint(wait)}),
            content_type="application/json",
            headers={"Retry-After": str(max(1, math.ceil(wait)))})


def _ref(frame: dict[str, Any]) -> dict[str, str]:
    ref = frame.get("client_msg_id")
    return {"ref": ref} if isinstance(ref, str) else {}


def unavailable_frame(retry_after: float = RETRY_AFTER_S, **extra: str) -> str:
    return frames.error("unavailable", "the service is busy or restarting; try again shortly",
                        retry_after=retry_after, **extra)
