"""Conversation operations people ask for: the full 'assigned' frame, close and transfer.

The web handlers and the agent socket hold a `Desk`, not the runtime: what they may do to a
conversation is what this object offers. The moves themselves are Lua scripts; a refusal comes
back as a ProtocolError with the script's reason as its code.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from kefu_common.errors import ProtocolError
from router.auth import Principal
from router.models import Role, new_id
from router.pipeline.transcript import Transcript
from router.store import Store


class Waker(Protocol):
    """The timer runner, as the operations that schedule a timer due now see it."""

    def wake(self) -> None: ...


async def checked(store: Store, script: str, args: list[Any], doing: str, *, default: int = 409,
                  statuses: Mapping[str, int] | None = None) -> list[Any]:
    """Run a routing script that answers {'ok', ...} or {'err', reason}; a refusal raises
    (ProtocolError.refusal: `statuses` by code, else `default`)."""
    res: list[Any] = await store.call(script, args)
    if res[0] != "ok":
        raise ProtocolError.refusal(res[1], doing, statuses, default=default)
    return res


class Desk:
    def __init__(self, store: Store, transcript: Transcript, timers: Waker) -> None:
        self.store = store
        self.transcript = transcript
        self.timers = timers

    async def assigned_frame(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Expand an 'assigned' event into the full frame: conversation, customer, messages."""
        cid = str(event["conversation_id"])
        conv = await self.store.conversation(cid) or {"id": cid}
        customer = await self.store.customer(conv.get("customer_id") or "") or {"id": conv.get("customer_id")}
        messages = await self.transcript.public(cid)
        trigger = event.get("message")
        if isinstance(trigger, dict) and all(m["id"] != trigger.get("id") for m in messages):
            messages.append(trigger)  # the transcript write may not have landed yet on a Cluster
        return {"type": "assigned", "conversation": {**conv, "customer": customer}, "messages": messages}

    async def close(self, cid: str, who: Principal, resolution: str) -> None:
        force = "1" if who.can(Role.SUPERVISOR) else "0"
        await checked(self.store, "close", [cid, who.agent_id, time.time(), resolution, force], f"close {cid}")

    async def transfer(self, cid: str, who: Principal, kind: str, target: str, note: str) -> dict[str, Any]:
        """The script moves the chat and, in the same step, owes its note (router/ops/handover.py)."""
        force = "1" if who.can(Role.SUPERVISOR) else "0"
        res = await checked(self.store, "transfer", [cid, who.agent_id, force, kind, target, time.time(), note,
                                                     new_id("tr")], f"transfer {cid}")
        self.timers.wake()  # the note is due now
        return {"outcome": str(res[1]), "to": str(res[2])}
