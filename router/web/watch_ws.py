"""Supervisors reading a conversation live (issue 19): the agent socket's `watch` frame.

`{"type": "watch", "conversation_id", "after"?}` follows one conversation's transcript from the
message `after` (its id; absent or unknown: from the start) and sends what is new as
`{"type": "watched", "conversation_id", "messages": [...]}` as it lands: the customer's
messages, the agent's and the bot's replies, notes and whispers. Pushed, as the agent's thread
is by its events: each line appended says so on keys.transcript_channel, and this process's hub
wakes the sockets following that conversation; nothing reads on a timer. One conversation per
socket; a new `watch` replaces it, `{"type": "unwatch"}` ends it. Supervisors and admins only
(agent_ws.FRAME_ROLES). The transcript is the source, so every process serves it the same,
whichever process routed the messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from kefu_common.errors import ProtocolError
from router.models import decode_message
from router.store.client import REDIS_ERRORS
from router.web import frames

if TYPE_CHECKING:
    from router.runtime import Runtime

log = logging.getLogger("kefu.watch")

RETRY_S = 1.0
"""How soon a read that Redis failed is tried again."""
BATCH = 200


class AgentSession(Protocol):
    """What these handlers read of router.web.agent_ws.AgentSession."""

    @property
    def rt(self) -> Runtime: ...
    @property
    def ws(self) -> web.WebSocketResponse: ...
    watching: asyncio.Task[None] | None


async def watch(session: AgentSession, frame: dict[str, Any]) -> dict[str, Any]:
    rt = session.rt
    cid = frames.text_field(frame, "conversation_id")
    after = frames.text_field(frame, "after", max_len=128, required=False)
    if await rt.store.conversations.get(cid) is None:
        raise ProtocolError("unknown_conversation", f"no conversation {cid} (Redis holds no longer)", 404)
    start = (await rt.store.transcripts.entry_of(cid, after) if after else None) or "0"
    stop(session)
    session.watching = asyncio.create_task(_follow(session, cid, start))
    return {"type": "watching", "conversation_id": cid}


async def unwatch(session: AgentSession, frame: dict[str, Any]) -> dict[str, Any]:
    stop(session)
    return {"type": "watching", "conversation_id": None}


def stop(session: AgentSession) -> None:
    if session.watching is not None:
        session.watching.cancel()
        session.watching = None


async def _follow(session: AgentSession, cid: str, entry: str) -> None:
    """Read what is new whenever a line lands (the hub's transcript notices), never on a timer:
    the notice is cleared before each read, so a line that lands during a read is read next."""
    rt = session.rt
    landed = asyncio.Event()
    rt.hub.watch_transcript(cid, landed)
    try:
        while not session.ws.closed:
            landed.clear()
            try:
                rows = await rt.store.transcripts.after(cid, entry, BATCH)
            except REDIS_ERRORS as exc:  # Redis away: try again shortly
                log.warning("watch %s: %s", cid, exc)
                await asyncio.sleep(RETRY_S)
                continue
            if rows:
                entry = rows[-1][0]
                messages = [decode_message(m).public() for _, m in rows]
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await session.ws.send_str(frames.dump({"type": "watched", "conversation_id": cid,
                                                           "messages": messages}))
            if len(rows) < BATCH:
                await landed.wait()
    finally:
        rt.hub.unwatch_transcript(cid, landed)


HANDLERS = {"watch": watch, "unwatch": unwatch}
