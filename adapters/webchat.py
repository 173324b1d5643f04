"""The shop's own web chat: signed sessions, a customer WebSocket, and replay after `last_seen`.

The native protocol is ours (docs/protocol.md). Each visitor has a feed stream of the frames they
were sent; `send` appends a reply there once by message id and publishes it, and a reconnecting
page gets everything after the last message it saw, each frame once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import WSMsgType, web

from adapters.base import Adapter, Limits, Reply
from kefu_common import safejson
from kefu_common.errors import AuthError, ProtocolError
from router.models import Channel, Message, new_id
from router.pipeline.fanout import Tap
from router.store.calls.streams import AppendOnce
from router.web import frames
from router.web.widget_socket import CustomerSide

if TYPE_CHECKING:
    from router.runtime import Runtime

ACCOUNT = "web"
FEED_MAXLEN = 1000


class WebchatAdapter(Adapter):
    channel: ClassVar[Channel] = Channel.WEBCHAT
    limits: ClassVar[Limits] = Limits(max_text_chars=8000)

    def __init__(self, rt: Runtime) -> None:
        super().__init__(ACCOUNT, rt.ingestor)
        self.rt = rt
        self.keys = rt.store.keys

    def routes(self) -> Sequence[web.RouteDef]:
        return [
            web.post("/api/v1/webchat/sessions", self.new_session),
            web.get("/ws/chat", self.socket),
        ]

    async def send(self, reply: Reply) -> None:
        """Deliver to the visitor's feed: stored once by message id, published to open pages."""
        frame = frames.dump({"type": "message", "conversation_id": reply.conversation_id,
                             "message": reply.public()})
        await self.rt.store.run(AppendOnce(self.keys.feed(reply.chat), self.keys.feed_ids(reply.chat), reply.id, frame,
                                           FEED_MAXLEN, self.keys.customer_channel,
                                           f"{self.channel.value}:{reply.chat}"))

    async def new_session(self, request: web.Request) -> web.Response:
        name = ""
        if request.can_read_body:
            with contextlib.suppress(ValueError):
                body = safejson.loads(await request.read())
                if isinstance(body, dict) and isinstance(body.get("name"), str):
                    name = body["name"][:64]
        token, visitor = self.rt.signer.issue()
        return web.json_response({"session": token, "visitor": visitor, "name": name}, status=201)

    async def socket(self, request: web.Request) -> web.StreamResponse:
        try:
            visitor = self.rt.signer.verify(request.query.get("session"))
        except AuthError as exc:
            raise web.HTTPUnauthorized(text=frames.error("unauthorized", exc.detail),
                                       content_type="application/json") from None
        ws = web.WebSocketResponse(max_msg_size=self.rt.settings.limits.max_frame_bytes, heartbeat=30)
        await ws.prepare(request)
        address = f"{self.channel.value}:{visitor}"
        tap = Tap(address, ws.send_str, lambda t, after: self._replay(visitor, t, after))
        self.rt.hub.add_customer(address, tap)
        self.rt.sockets.add(ws)
        side = CustomerSide(self.rt, visitor)
        try:
            tap.offer("-", await side.snapshot())  # held: sent after the replayed history
            await self._replay_from(visitor, tap, request.query.get("last_seen"))
            tap.go_live()
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._handle(ws, visitor, request.query.get("name", ""), msg.data, side)
                elif msg.type is WSMsgType.BINARY:
                    await ws.send_str(frames.error("bad_frame", "binary frames are not accepted"))
        finally:
            self.rt.sockets.discard(ws)
            self.rt.hub.remove_customer(address, tap)
            await tap.close()
        return ws

    async def _replay_from(self, visitor: str, tap: Tap, last_seen: str | None) -> None:
        after = "0-0"
        if last_seen:
            found = await self.rt.store.client.hget(self.keys.feed_ids(visitor), last_seen)
            if found:
                after = found
        await self._replay(visitor, tap, after)

    async def _replay(self, visitor: str, tap: Tap, after: str) -> None:
        entries = await self.rt.store.client.xrange(self.keys.feed(visitor), min=f"({after}", count=FEED_MAXLEN)
        tap.start_at(after)
        tap.replayed([(eid, fields["m"]) for eid, fields in entries])

    async def _handle(self, ws: web.WebSocketResponse, visitor: str, name: str, text: str,
                      side: CustomerSide) -> None:
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
            body = frames.text_field(frame, "text", max_len=self.rt.settings.limits.max_text_chars)
            client_id = frames.text_field(frame, "client_msg_id")
            accepted = await self.sink.ingest(customer_message(visitor, client_id, body, name))
            await ws.send_str(frames.dump({"type": "ack", "client_msg_id": client_id,
                                           "message_id": accepted.message_id}))
        except ProtocolError as exc:
            # Echo the client_msg_id, so the page can mark that one message as refused.
            ref = frame.get("client_msg_id")
            await ws.send_str(frames.error(exc.code, exc.detail, **({"ref": ref} if isinstance(ref, str) else {})))


def customer_message(visitor: str, client_id: str, text: str, name: str = "") -> Message:
    """A visitor's message; (visitor, client_msg_id) is its idempotency key, so a page that
    resends after a reconnect is accepted once."""
    return Message(
        id=new_id("m"), channel=Channel.WEBCHAT, account=ACCOUNT,
        native_id=f"{visitor}:{client_id}", sender_ref=visitor, text=text, ts=time.time(),
        customer_name=name[:64] or None, raw={"text": text, "client_msg_id": client_id},
    )
