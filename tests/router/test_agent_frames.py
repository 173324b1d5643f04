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


def session(ws: Ws, role: Role = Role.AGENT) -> AgentSession:
    """A session whose tap is live (no snapshot): `offer` writes a frame the way the hub does."""
    rt: Any = SimpleNamespace(settings=SimpleNamespace(limits=LimitSettings()))
    s = AgentSession(rt, None, None, None, Principal("alice", "Alice", role), ws, sid="s1")  # type: ignore[arg-type]
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
