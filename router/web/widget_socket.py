"""The widget's socket frames beyond `message`: `typing` and `csat`, and the snapshot of the
visitor's conversation that every (re)connect starts with. Used by router/web/chat_socket.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.models import WEBCHAT
from router.ops.csat import Csat, parse_frame
from router.pipeline.typing_relay import Throttle, from_customer
from router.store.calls.customers import WidgetView
from router.web import frames

if TYPE_CHECKING:
    from router.runtime import Runtime


class CustomerSide:
    """One widget socket's frames beyond `message`: `typing` and `csat`, plus the snapshot of
    the visitor's conversation that a (re)connecting page starts from."""

    kinds = frozenset({"typing", "csat"})

    def __init__(self, rt: Runtime, visitor: str) -> None:
        self.rt = rt
        self.visitor = visitor
        self.gate = Throttle()
        self.csat = Csat(rt.store)
        self.unknown = False
        """The snapshot found no customer for this visitor: their next line may open one at
        ingest, decided there (Ingestor, ingest_open.lua); cleared once a line is sent."""

    async def handle(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        if frame["type"] == "typing":
            await from_customer(self.rt, self.visitor, self.gate)
            return None
        cid, rating, comment = parse_frame(frame)
        cust = await self.csat.customer_of(self.visitor)
        r = await self.csat.record(cust, cid, rating, comment)
        return {"type": "csat_recorded", "conversation_id": r.conversation_id, "rating": r.rating}

    async def snapshot(self) -> str:
        """{"type": "conversation", "conversation": {id, state, agent, rated, queue, read} | null}: the
        open conversation, else the last one, so a page that missed `agent`, `closed` or `queue`
        frames while away (they are not stored) still shows the agent's name, the rating form or
        its place in line (`queue`: {position, eta_s} while waiting, as the `queue` frame has them,
        else null; `read`: the newest message id its agent has seen, or null). One round trip
        (widget_view.lua), and one more for a closed conversation's rating."""
        cust, conv = await self.rt.store.run(WidgetView(f"{WEBCHAT}:web:{self.visitor}"))
        self.unknown = cust is None
        view: dict[str, Any] | None = None
        if conv is not None:
            agent = None
            if conv.agent:
                agent = {"id": conv.agent, "name": conv.agent_name,
                         **({"avatar": conv.agent_avatar} if conv.agent_avatar else {})}
            queue = conv.queue and {"position": conv.queue["position"], "eta_s": conv.queue["eta_s"]}
            view = {"id": conv.id, "state": conv.state, "agent": agent,
                    "rated": conv.state == "closed" and await self.csat.rated(conv.id), "queue": queue,
                    "read": conv.read or None}
        return frames.dump({"type": "conversation", "conversation": view})
