"""Agent frames that only signal the customer's page: `typing` and `read`.

`agent_ws.HANDLERS` takes these in. Neither is stored nor answered: typing is relayed while it
lasts (router/pipeline/typing_relay.py), and the console sends `read` again whenever it shows
more (router/pipeline/read_receipts.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from router.pipeline import read_receipts
from router.pipeline.typing_relay import Throttle, from_agent
from router.web import frames

if TYPE_CHECKING:
    from router.auth import Principal
    from router.runtime import Runtime


class AgentSession(Protocol):
    """What these handlers read of router.web.agent_ws.AgentSession (named here, so the two
    modules do not import each other)."""

    @property
    def rt(self) -> Runtime: ...
    @property
    def who(self) -> Principal: ...
    @property
    def typing_gate(self) -> Throttle: ...


async def typing(session: AgentSession, frame: dict[str, Any]) -> None:
    """Relayed to a web chat customer (router/pipeline/typing_relay.py); never stored."""
    await from_agent(session.rt, session.who, frames.text_field(frame, "conversation_id"), session.typing_gate)


async def read(session: AgentSession, frame: dict[str, Any]) -> None:
    """The console shows `conversation_id` up to `message_id`: the customer's page marks its
    messages read (router/pipeline/read_receipts.py). No answer: the console sends it again
    whenever it shows more."""
    await read_receipts.from_agent(session.rt, session.who, frames.text_field(frame, "conversation_id"),
                                   frames.text_field(frame, "message_id", max_len=64))


HANDLERS = {"typing": typing, "read": read}
