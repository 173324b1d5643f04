"""Agent frames that change a conversation at the desk (router/ops/desk.py): `close`, `wait`,
`unwait` and `transfer`.

`agent_ws.HANDLERS` takes these in. The desk's scripts send the frames every console sees
(`closed`, `waiting`, `transferred` to the other side), so only `transfer` answers the sender.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from kefu_common.errors import ProtocolError
from router.web import frames

if TYPE_CHECKING:
    from router.auth import Principal
    from router.ops.desk import Desk

MAX_WAIT_S = 30 * 86400
"""The furthest a chat may be parked waiting for the customer: past that it is not waiting."""


class AgentSession(Protocol):
    """What these handlers read of router.web.agent_ws.AgentSession (named here, so the two
    modules do not import each other)."""

    @property
    def desk(self) -> Desk: ...
    @property
    def who(self) -> Principal: ...
    @property
    def addr(self) -> str: ...


async def close(session: AgentSession, frame: dict[str, Any]) -> None:
    cid = frames.text_field(frame, "conversation_id")
    resolution = frames.text_field(frame, "resolution", max_len=64, required=False) or "resolved"
    await session.desk.close(cid, session.who, resolution, addr=session.addr)


async def wait(session: AgentSession, frame: dict[str, Any]) -> None:
    """Park a chat waiting for the customer; the script's `waiting` frame reaches every console."""
    cid = frames.text_field(frame, "conversation_id")
    until = frame.get("until")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int | float)
                              or not time.time() < until <= time.time() + MAX_WAIT_S):
        raise ProtocolError("bad_frame", '"until" must be a time (epoch seconds) in the next 30 days, or null')
    await session.desk.wait(cid, session.who, None if until is None else float(until))


async def unwait(session: AgentSession, frame: dict[str, Any]) -> None:
    await session.desk.wait(frames.text_field(frame, "conversation_id"), session.who, None, park=False)


async def transfer(session: AgentSession, frame: dict[str, Any]) -> dict[str, Any]:
    cid = frames.text_field(frame, "conversation_id")
    to_agent = frame.get("to_agent")
    to_pool = frame.get("to_pool")
    if bool(to_agent) == bool(to_pool) or not isinstance(to_agent or to_pool, str):
        raise ProtocolError("bad_frame", 'give exactly one of "to_agent" or "to_pool"')
    note = frames.text_field(frame, "note", max_len=2000, required=False)
    kind, target = ("agent", to_agent) if to_agent else ("pool", to_pool)
    outcome = await session.desk.transfer(cid, session.who, kind, str(target), note, addr=session.addr)
    return {"type": "transferred", "conversation_id": cid, **outcome}


HANDLERS = {"close": close, "wait": wait, "unwait": unwait, "transfer": transfer}
