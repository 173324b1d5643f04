"""Agent frames for operations: discount requests and supervisors' answers.

`agent_ws.HANDLERS` takes these in; each handler answers through the agent's event stream
(lua/approval.lua emits the `approval` frames), so it returns nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from kefu_common.errors import ProtocolError
from router.ops import approvals
from router.web import frames

if TYPE_CHECKING:
    from router.auth import Principal
    from router.ops.approvals import Approvals


class AgentSession(Protocol):
    """What these handlers read of router.web.agent_ws.AgentSession (named here, so the two
    modules do not import each other)."""

    @property
    def approvals(self) -> Approvals: ...
    @property
    def who(self) -> Principal: ...
    @property
    def addr(self) -> str: ...


Handler = Callable[[AgentSession, dict[str, Any]], Coroutine[Any, Any, dict[str, Any] | None]]


async def discount_request(session: AgentSession, frame: dict[str, Any]) -> None:
    cid = frames.text_field(frame, "conversation_id")
    amount = approvals.parse_amount(frame.get("amount"))
    reason = frames.text_field(frame, "reason", max_len=500, required=False)
    client_id = frames.text_field(frame, "client_msg_id")
    await session.approvals.request(session.who, cid, amount, reason, client_id, addr=session.addr)


async def approval_answer(session: AgentSession, frame: dict[str, Any]) -> None:
    apid = frames.text_field(frame, "id")
    approved = frame.get("approved")
    if not isinstance(approved, bool):
        raise ProtocolError("bad_frame", '"approved" must be true or false')
    note = frames.text_field(frame, "note", max_len=2000, required=False)
    try:
        await session.approvals.answer(session.who, apid, approved, note, addr=session.addr)
    except ProtocolError as exc:
        # The HTTP refusal is 403 'unauthorized'; on an open socket 'forbidden' says it better.
        raise ProtocolError("forbidden" if exc.status == 403 else exc.code, exc.detail, exc.status) from None


HANDLERS: dict[str, Handler] = {
    "discount_request": discount_request,
    "approval_answer": approval_answer,
}
