"""The agent socket's frame writer (router/web/agent_ws.py, `AgentSession._write`) reads only a
frame's head (type, conversation, message id) and passes the frame on as it came."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from router.auth import Principal
from router.config.schema import LimitSettings
from router.models import Role
from router.ops.desk import Desk
from router.web.agent_ws import AgentSession


class Ws:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: list[int] = []

    async def send_str(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, *, code: int, message: bytes) -> bool:
        self.closed.append(code)
        return True


class Reads:
    """A desk whose reads of Redis are counted (the frame of an event with no view is read)."""

    def __init__(self) -> None:
        self.read: list[str] = []
        self.desk = Desk(None, None, None)  # type: ignore[arg-type]

    def published_frame(self, event: dict[str, Any]) -> dict[str, Any] | None:
        return self.desk.published_frame(event)

    async def assigned_frame(self, event: dict[str, Any]) -> dict[str, Any]:
        self.read.append(event["conversation_id"])
        await asyncio.sleep(0)  # a round trip
        return {"type": "assigned", "conversation": {"id": event["conversation_id"]}, "messages": []}


def session(ws: Ws, role: Role = Role.AGENT, desk: Reads | None = None) -> AgentSession:
    """A session whose tap is live (no snapshot): `offer` writes a frame the way the hub does."""
    rt: Any = SimpleNamespace(settings=SimpleNamespace(limits=LimitSettings()))
    s = AgentSession(rt, desk, None, None, Principal("alice", "Alice", role), ws, sid="s1")  # type: ignore[arg-type]
    s.tap.go_live()
    return s


async def deliver(s: AgentSession, *frames: str) -> None:
    for frame in frames:
        s.tap.offer("-", frame)
    await asyncio.sleep(0)


def message(cid: str, mid: str, text: str = "你好") -> str:
    return json.dumps({"type": "message", "conversation_id": cid, "message": {"id": mid, "text": text,
                       "media": {"id": "f1", "size": 3}}, "notify": True}, ensure_ascii=False)


async def test_message_frames_pass_on_unchanged_and_each_once() -> None:
    ws = Ws()
    s = session(ws)
    for frame in (message("c1", "m1"), message("c1", "m1"), message("c1", "m2"), message("c2", "m1")):
        await deliver(s, frame)
    assert ws.sent == [message("c1", "m1"), message("c1", "m2"), message("c2", "m1")]
    closed = json.dumps({"type": "closed", "conversation_id": "c1"})
    await deliver(s, closed)
    await deliver(s, message("c1", "m1"))  # a closed conversation forgets what it showed (reopened: shown again)
    assert ws.sent[-2:] == [closed, message("c1", "m1")]


async def test_frames_of_other_shapes_pass_on_and_status_only_to_supervisors() -> None:
    ws = Ws()
    s = session(ws)
    odd = json.dumps({"type": "message", "conversation_id": "c1", "message": "a line of text"})
    status = json.dumps({"type": "agent_status", "agent": "bob", "status": "away"})
    await deliver(s, odd)
    await deliver(s, status)
    await deliver(s, json.dumps({"type": "pong"}))
    assert ws.sent == [odd, json.dumps({"type": "pong"})]
    boss = Ws()
    await deliver(session(boss, Role.SUPERVISOR), status)
    assert boss.sent == [status]


async def test_session_ended_closes_only_its_own_session() -> None:
    ws = Ws()
    s = session(ws)
    await deliver(s, json.dumps({"type": "session_ended", "session": "other"}))
    assert s._ending is None
    await deliver(s, json.dumps({"type": "session_ended", "session": "s1"}))
    assert s._ending is not None
    await s._ending
    assert ws.closed == [4401] and ws.sent == []
    disabled = Ws()
    t = session(disabled)
    await deliver(t, json.dumps({"type": "session_ended", "agent_disabled": True}))
    assert t._ending is not None
    await t._ending
    assert disabled.closed == [4401]


def published(cid: str, mid: str, text: str) -> str:
    """An `assigned` event as route.lua publishes it for a new chat: its first line and the
    conversation's and customer's hashes (flat, as HGETALL gives them in a script) beside it."""
    return json.dumps({
        "type": "assigned", "conversation_id": cid, "customer_id": "cu1",
        "message": {"id": mid, "conversation_id": cid, "from": "customer", "text": text},
        "view": {"conv": ["id", cid, "customer", "cu1", "state", "assigned", "agent", "alice", "messages", "1"],
                 "customer": ["id", "cu1", "name", "小王"], "idents": ["web:shop:v1"]},
    }, ensure_ascii=False)


async def test_a_new_chats_assigned_frame_goes_out_at_once_and_others_are_read() -> None:
    """An `assigned` event that brought its view along is sent in the offering task, as a
    `message` frame is: no read, no pump task, no wait for another turn of the loop. One
    without a view (a replay, a chat with history) is read first, in the socket's pump task."""
    ws, reads = Ws(), Reads()
    s = session(ws, desk=reads)
    s.tap.offer("-", published("c1", "m1", "有黑色吗"))
    assert s.tap._pump_task is None and len(ws.sent) == 1  # sent before anything awaited
    frame = json.loads(ws.sent[0])
    assert frame["conversation"]["id"] == "c1" and frame["conversation"]["customer"]["name"] == "小王"
    assert [m["text"] for m in frame["messages"]] == ["有黑色吗"]
    # Shown: the line's own `message` event and the event again add nothing.
    await deliver(s, message("c1", "m1"), published("c1", "m1", "有黑色吗"))
    assert len(ws.sent) == 1 and reads.read == []
    s.tap.offer("-", json.dumps({"type": "assigned", "conversation_id": "c2", "customer_id": "cu2"}))
    assert s.tap._pump_task is not None and len(ws.sent) == 1  # read first
    await asyncio.sleep(0.01)
    assert reads.read == ["c2"] and json.loads(ws.sent[1])["conversation"]["id"] == "c2"
    await deliver(s, message("c2", "m9"))
    assert json.loads(ws.sent[2])["message"]["id"] == "m9"
