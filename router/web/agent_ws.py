"""The agent WebSocket: `assigned`, `message`, `delivery` frames out; replies and actions in (each
kind of frame in is handled here or in a module of its own: reply_ws, desk_ws, signals_ws, ops_ws,
watch_ws)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from kefu_common import safejson
from kefu_common.errors import AuthError, ProtocolError, StoreError, StoreUnavailable
from router.accounts.service import ORDER as ROLE_ORDER
from router.auth import Principal
from router.models import Role
from router.ops.approvals import Approvals
from router.ops.desk import Desk
from router.ops.presence import Presence, away_reasons, requested_status
from router.ops.supervise import visible_to
from router.pipeline.tap import Stuck, Tap
from router.pipeline.typing_relay import Throttle
from router.runtime import RUNTIME, Runtime
from router.store.client import REDIS_ERRORS
from router.web import desk_ws, frames, ops_ws, reply_ws, signals_ws, slow, watch_ws
from router.web.api import APPROVALS, DESK, PRESENCE, SESSION_COOKIE
from router.web.proxy import client

log = logging.getLogger("kefu.agent_ws")

PRESENCE_REFRESH_S = 20
"""Also how often a socket re-checks its sign-in, in case a sign-out notice was lost."""
SIGNED_OUT = 4401
"""Close code: this socket's console session ended (signed out, expired, token changed). The
console shows its sign-in form instead of reconnecting with a dead cookie."""


async def agent_ws(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    try:
        token = request.query.get("token")
        if not token and not _same_origin(request):
            # A cookie rides along on any page's WebSocket; only our own console may use it.
            raise AuthError("cross-origin WebSocket with a session cookie", status=403)
        who, sid = (await rt.accounts.bearer(token), None) if token else \
            await rt.sessions.verify(request.cookies.get(SESSION_COOKIE))
        if token and who.via == "session":
            sid = rt.sessions.session_id(token)  # a login token: the socket ends with its session
        if who.pending:
            raise AuthError("set up two-factor sign-in first", status=403)
    except AuthError as exc:
        refusal = web.HTTPForbidden if exc.status == 403 else web.HTTPUnauthorized
        raise refusal(text=frames.error("unauthorized", exc.detail), content_type="application/json") from None
    ws = web.WebSocketResponse(max_msg_size=rt.settings.limits.max_frame_bytes, heartbeat=30)
    await ws.prepare(request)
    session = AgentSession(rt, request.app[DESK], request.app[PRESENCE], request.app[APPROVALS], who, ws,
                           slow.closer(ws, request), sid=sid, addr=client(request))
    rt.sockets.add(ws)
    try:
        await session.run()
    except (StoreError, *REDIS_ERRORS, OSError, TimeoutError) as exc:
        # Redis failed the snapshot past the pool's wait: the console reconnects and gets it.
        log.warning("agent %s: socket closed, Redis failed: %s", who.agent_id, exc)
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"store busy, reconnect")
    finally:
        rt.sockets.discard(ws)
        await session.end()
    return ws


class _MessageHead(msgspec.Struct):
    id: str = ""


class _Head(msgspec.Struct):
    """What the socket's writer reads of a frame: every frame, every agent, so not the message
    text, the transcript of an `assigned` frame or anything else it passes on untouched: msgspec
    skips the fields a struct does not name without building them (a customer's `message` frame,
    430 bytes: 0.9 us for its head, 2.2 us decoded in full to a dict)."""

    type: str = ""
    conversation_id: str = ""
    message: _MessageHead | None = None
    agent_disabled: bool = False
    session: str | None = None


_HEAD = msgspec.json.Decoder(_Head)


def _head(frame: str) -> _Head:
    try:
        return _HEAD.decode(frame)
    except msgspec.ValidationError:
        # A field of another shape than the writer's frames have (a `message` that is text):
        # the writer only needs the type, and passes the frame on as it is.
        event = msgspec.json.decode(frame)
        kind = event.get("type") if isinstance(event, dict) else None
        return _Head(type=kind if isinstance(kind, str) and kind != "message" else "")


SNAPSHOT_BATCH = 50
"""Open conversations whose `assigned` frames a snapshot reads in one go (an agent's cap is at most 100)."""


class AgentSession:
    def __init__(self, rt: Runtime, desk: Desk, presence: Presence, approvals: Approvals, who: Principal,
                 ws: web.WebSocketResponse, on_stuck: Stuck | None = None, *, sid: str | None = None,
                 addr: str = "") -> None:
        self.rt = rt
        self.desk = desk
        self.presence = presence
        self.approvals = approvals
        self.who = who
        self.ws = ws
        self.conn_id = os.urandom(6).hex()
        self.sid = sid
        self.addr = addr
        """Where the socket was opened from, for the audit log (router/web/proxy.py)."""
        """The console session this socket was opened with; None for a bearer token."""
        self._ending: asyncio.Task[bool] | None = None
        self.tap = Tap(who.agent_id, self._write, ws.send_str, self._replay, slow.drain(rt.settings.limits), on_stuck)
        # Message ids already shown, per conversation: an `assigned` frame carries the transcript,
        # which may already hold a message whose own `message` event is still on its way.
        self.shown: dict[str, set[str]] = {}
        self.typing_gate = Throttle()
        self.watching: asyncio.Task[None] | None = None
        """The conversation a supervisor reads live (router/web/watch_ws.py)."""

    def _write(self, frame: str) -> str | Awaitable[None] | None:
        """What one frame becomes on this socket (router/pipeline/tap.py, `Writer`): the text to
        send, nothing, or the expansion of an `assigned` frame, which waits on Redis."""
        head = _head(frame)
        kind = head.type
        if kind == "session_ended":  # for the server, never shown; other sessions ignore it
            if head.agent_disabled or (self.sid is not None and head.session == self.sid):
                self.session_ended()
            return None
        if kind == "assigned":
            cid = head.conversation_id
            if cid in self.shown:
                return None  # assigned while this socket connected: the snapshot already showed it
            event = msgspec.json.decode(frame)
            full = self.desk.published_frame(event)
            if full is None:
                return self._assigned(cid, event)
            # A new chat's frame needs no read, so it goes out in the hub's task like any other:
            # no pump task, no extra turn of the loop on a new chat's way to its agent. Taken for
            # shown as it goes, as a `message` frame is (the tap retries its text if the send fails).
            return self._show(cid, full)
        if kind == "message" and head.message is not None:
            cid, mid = head.conversation_id, head.message.id
            if mid in self.shown.get(cid, ()):
                return None
            # Taken for shown as it goes out: if its send fails, the tap sends the text again or
            # closes the socket, and the console's next snapshot holds the message.
            self.shown.setdefault(cid, set()).add(mid)
            return frame
        if kind == "agent_status" and not self.who.can(Role.SUPERVISOR):
            return None  # a teammate's status is for the supervisor's floor view only
        if kind in ("closed", "unassigned"):
            self.shown.pop(head.conversation_id, None)
        return frame

    async def _assigned(self, cid: str, event: dict[str, Any]) -> None:
        """Send an `assigned` frame with its conversation read from Redis. What was shown is noted
        only after the send, so a frame that failed (Redis busy while expanding it) is not taken
        for shown when the tap tries it again."""
        full = await self.desk.assigned_frame(event)
        full["messages"] = visible_to(full["messages"], self.who)  # a whisper for the agent before
        await self.ws.send_str(frames.dump(full))
        self.shown[cid] = {m["id"] for m in full["messages"]}

    def _show(self, cid: str, full: dict[str, Any]) -> str:
        """The text of an `assigned` frame as this agent sees it, noted as shown."""
        full["messages"] = visible_to(full["messages"], self.who)
        self.shown[cid] = {m["id"] for m in full["messages"]}
        return frames.dump(full)

    async def _replay(self, tap: Tap, after: str) -> None:
        tap.replayed(await self.rt.store.agents.events_after(self.who.agent_id, after, 2000))

    async def run(self) -> None:
        rt, aid = self.rt, self.who.agent_id
        rt.hub.add_agent(aid, self.tap)
        presence = asyncio.create_task(self._presence())
        try:
            await self._snapshot()
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._handle(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self.ws.send_str(frames.error("bad_frame", "binary frames are not accepted"))
        finally:
            presence.cancel()
            rt.hub.remove_agent(aid, self.tap)

    async def _snapshot(self) -> None:
        """Mark this agent present, go online if offline, then send every open conversation."""
        rt, aid = self.rt, self.who.agent_id
        await rt.store.agents.mark_present(aid, self.conn_id, time.time() + 2 * PRESENCE_REFRESH_S)
        latest = await rt.store.agents.latest_event_id(aid)
        if latest:
            self.tap.start_at(latest)
        agent = await rt.store.agents.get(aid)
        status = agent.status.value if agent else "offline"
        if agent and status == "offline":
            await self.presence.set_status(aid, "online", "connected")
            status = "online"
        await self.ws.send_str(frames.dump({
            "type": "hello", "agent": {"id": aid, "name": self.who.name, "role": self.who.role.value,
                                       "status": status, "reason": agent.away_reason if agent else ""},
            "away_reasons": away_reasons(rt.settings.ops),
        }))
        cids = [cid for cid in await rt.store.agents.conversation_ids(aid) if cid not in self.shown]
        for start in range(0, len(cids), SNAPSHOT_BATCH):
            # Read together, sent in order: two round trips a batch, not two per conversation.
            part = cids[start:start + SNAPSHOT_BATCH]
            for cid, full in zip(part, await self.desk.assigned_frames(part), strict=True):
                await self.ws.send_str(self._show(cid, full))  # a send that fails ends the socket
        self.tap.go_live()

    async def _presence(self) -> None:
        agents, aid = self.rt.store.agents, self.who.agent_id
        while True:
            await asyncio.sleep(PRESENCE_REFRESH_S)
            with contextlib.suppress(Exception):
                await agents.mark_present(aid, self.conn_id, time.time() + 2 * PRESENCE_REFRESH_S)
            ended = False
            with contextlib.suppress(Exception):  # Redis away is not a sign-out
                ended = not await self._still_signed_in()
            if ended:
                self.session_ended()
                return

    async def _still_signed_in(self) -> bool:
        """Whether the socket's sign-in still holds; a role an admin changed since applies to
        this socket's frames from now on."""
        try:
            now = await self.rt.sessions.holder(self.sid) if self.sid is not None else \
                await self.rt.accounts.live(self.who.agent_id, self.who.via)
        except AuthError:  # disabled, or no longer an agent
            return False
        if now is not None:
            # An API key's socket keeps its key's scope: never more than the key, nor the owner now.
            self.who = now if self.who.via != "key" else dataclasses.replace(
                now, role=min(now.role, self.who.role, key=ROLE_ORDER.index), via="key", key_id=self.who.key_id)
        return now is not None

    def session_ended(self) -> None:
        """Close this socket as signed out. A task of its own: the close waits for the reader,
        and this is called from the frame writer and the presence loop."""
        if self._ending is None:
            log.info("agent %s: session ended; closing its socket", self.who.agent_id)
            self._ending = asyncio.create_task(self.ws.close(code=SIGNED_OUT, message=b"signed out"))

    async def end(self) -> None:
        watch_ws.stop(self)
        if self._ending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ending, 5)
        await self.tap.close()
        with contextlib.suppress(Exception):
            await self.rt.store.agents.mark_gone(self.who.agent_id, self.conn_id)
        self.presence.agent_left(self.who.agent_id)

    async def _handle(self, text: str) -> None:
        try:
            frame = frames.parse(text)
            handler = HANDLERS.get(frame["type"])
            if handler is None:
                raise ProtocolError("unknown_type", f"unknown frame type {frame['type']!r}")
            needs = FRAME_ROLES.get(frame["type"], Role.AGENT)
            if not self.who.can(needs):
                raise ProtocolError("forbidden", f"a {frame['type']} frame needs the {needs.value} role", 403)
            answer = await handler(self, frame)
            if answer:
                await self.ws.send_str(frames.dump(answer))
        except ProtocolError as exc:
            await self.ws.send_str(frames.error(exc.code, exc.detail, **exc.params, ref=_ref(text)))
        except (StoreError, *REDIS_ERRORS, OSError, TimeoutError) as exc:
            # The console keeps an unacknowledged reply and sends it again; its client_msg_id
            # makes a second arrival a no-op.
            log.warning("agent %s frame: Redis unavailable: %s", self.who.agent_id, exc)
            retry = exc.retry_after if isinstance(exc, StoreUnavailable) else 2.0
            await self.ws.send_str(frames.error("unavailable", "the service is busy or restarting; try again shortly",
                                                ref=_ref(text), retry_after=retry))

    # -- frame handlers: each returns the frame to answer with, or None -------------------------
    async def status(self, frame: dict[str, Any]) -> dict[str, Any]:
        status, reason = requested_status(frame, self.rt.settings.ops)
        await self.presence.set_status(self.who.agent_id, status, "agent_set", reason)
        return {"type": "status", "status": status, "reason": reason}

    async def ping(self, frame: dict[str, Any]) -> dict[str, Any]:
        return {"type": "pong"}


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin.partition("://")[2] == request.host


def _ref(text: str) -> str | None:
    """Echo a client_msg_id back on errors, so clients can tell which send failed."""
    with contextlib.suppress(Exception):
        value = safejson.loads(text).get("client_msg_id")
        return value if isinstance(value, str) else None
    return None


HANDLERS: dict[str, Callable[[AgentSession, dict[str, Any]], Coroutine[Any, Any, dict[str, Any] | None]]] = {
    "status": AgentSession.status,
    "ping": AgentSession.ping,
}
HANDLERS.update(reply_ws.HANDLERS)  # reply and note: router/web/reply_ws.py
HANDLERS.update(desk_ws.HANDLERS)  # close, wait, unwait, transfer: router/web/desk_ws.py
HANDLERS.update(signals_ws.HANDLERS)  # typing and read, for the customer's page: router/web/signals_ws.py
HANDLERS.update(ops_ws.HANDLERS)  # discount approvals: router/web/ops_ws.py
HANDLERS.update(watch_ws.HANDLERS)  # supervisors reading a conversation live: router/web/watch_ws.py

FRAME_ROLES: dict[str, Role] = {"approval_answer": Role.SUPERVISOR, "watch": Role.SUPERVISOR,
                                "unwatch": Role.SUPERVISOR}
"""The least role each frame type needs, checked before its handler runs (every other frame:
any agent; what a frame may touch, e.g. only one's own chats, each handler checks)."""
