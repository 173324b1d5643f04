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
from router.models import ConversationState, Role, decode_message, new_id
from router.ops.audit import Audit
from router.ops.csat import ChannelCsat
from router.pipeline.transcript import Transcript, public_views
from router.store import Store
from router.store.calls.routing import Close, Transfer, Wait
from router.store.views import AssignedView, published_view


class Waker(Protocol):
    """The timer runner, as the operations that schedule a timer due now see it."""

    def wake(self) -> None: ...


class Desk:
    def __init__(self, store: Store, transcript: Transcript, timers: Waker, csat: ChannelCsat | None = None,
                 audit: Audit | None = None) -> None:
        self.store = store
        self.transcript = transcript
        self.timers = timers
        self.csat = csat
        self.audit = audit
        """Where a supervisor's moves of other people's chats are recorded (takeovers, transfers,
        closes); an agent's moves of their own chats are the work itself, not changes to audit."""

    async def assigned_frame(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Expand an 'assigned' event into the full frame: conversation, customer, messages."""
        full = self.published_frame(event)
        if full is not None:
            return full
        cid = str(event["conversation_id"])
        seen = await self.store.assigned_view(cid, str(event.get("customer_id") or ""))
        return self._assigned(cid, seen, event)

    def published_frame(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """The full frame of an 'assigned' event that brought its view along (a new conversation's
        first line: route.lua publishes it), with no read; None when it must be read."""
        seen = published_view(dict(event)) if isinstance(event.get("message"), dict) else None
        return None if seen is None else self._assigned(str(event["conversation_id"]), seen, event)

    async def assigned_frames(self, cids: list[str]) -> list[dict[str, Any]]:
        """The `assigned` frames of many conversations (a console's snapshot), read together."""
        views = await self.store.assigned_views(cids)
        return [self._assigned(cid, seen, {}) for cid, seen in zip(cids, views, strict=True)]

    @staticmethod
    def _assigned(cid: str, seen: AssignedView, event: Mapping[str, Any]) -> dict[str, Any]:
        conv = seen.conversation.view() if seen.conversation else {"id": cid}
        customer = seen.customer.view() if seen.customer else {"id": conv.get("customer_id")}
        messages = public_views([decode_message(m) for m in seen.messages], seen.deliveries, seen.attachments)
        trigger = event.get("message")
        if isinstance(trigger, dict) and all(m["id"] != trigger.get("id") for m in messages):
            messages.append(trigger)  # the transcript write may not have landed yet on a Cluster
        return {"type": "assigned", "conversation": {**conv, "customer": customer}, "messages": messages}

    async def close(self, cid: str, who: Principal, resolution: str, addr: str = "") -> bool:
        """Whether this call closed it (False: it was closed already)."""
        before = await self._others(cid, who)
        closed = await self.store.run(Close(cid, who.agent_id, time.time(), resolution, who.can(Role.SUPERVISOR)))
        if before is not None and self.audit is not None and not closed.already:
            await self.audit.record(who, "conversation.close", cid, before=before,
                                    after={"state": "closed", "resolution": resolution}, addr=addr)
        if self.csat is not None:
            # WeChat and Telegram customers are asked for a rating by text; asking again after a
            # close that was already done repeats nothing (the outbox key is the close's), and
            # finishes a close whose ask a crash cut off.
            await self.csat.ask(cid)
        return not closed.already

    async def wait(self, cid: str, who: Principal, until: float | None, park: bool = True) -> str:
        """Park one's own chat waiting for the customer, or take it back (wait.lua)."""
        outcome = await self.store.run(Wait(cid, who.agent_id, time.time(), until, park))
        if until is not None:
            self.timers.wake()  # the runner sleeps until its next due timer; this one may be sooner
        return outcome

    async def close_many(self, cids: list[str], who: Principal, resolution: str,
                         addr: str = "") -> list[dict[str, Any]]:
        """Close each of `cids` once, as a single close would (its rating request, its audit),
        and say per chat what happened; one refused chat does not stop the others."""
        known = {c.id: c for c in await self.store.conversations.many(cids)}
        out: list[dict[str, Any]] = []
        for cid in cids:
            conv = known.get(cid)
            if conv is None:
                out.append({"id": cid, "ok": False, "error": "unknown_conversation",
                            "detail": f"no conversation {cid}"})
                continue
            if conv.state is ConversationState.CLOSED:
                out.append({"id": cid, "ok": False, "error": "already_closed", "detail": "it was closed already"})
                continue
            try:
                fresh = await self.close(cid, who, resolution, addr)
            except ProtocolError as exc:
                out.append({"id": cid, "ok": False, "error": exc.code, "detail": exc.detail})
                continue
            out.append({"id": cid, "ok": True} if fresh else
                       {"id": cid, "ok": False, "error": "already_closed", "detail": "it was closed already"})
        return out

    async def transfer(self, cid: str, who: Principal, kind: str, target: str, note: str,
                       addr: str = "") -> dict[str, Any]:
        """The script moves the chat and, in the same step, owes its note (router/ops/handover.py)."""
        before = await self._others(cid, who)
        moved = await self.store.run(Transfer(cid, who.agent_id, who.can(Role.SUPERVISOR), kind, target,
                                              time.time(), note, new_id("tr")))
        self.timers.wake()  # the note is due now
        if before is not None and self.audit is not None:
            takeover = kind == "agent" and target == who.agent_id
            await self.audit.record(who, "conversation.takeover" if takeover else "conversation.transfer", cid,
                                    before=before, after={kind: target, "outcome": moved.outcome, "to": moved.to},
                                    addr=addr, detail={"note": note} if note else None)
        return {"outcome": moved.outcome, "to": moved.to}

    async def _others(self, cid: str, who: Principal) -> dict[str, Any] | None:
        """Where the chat is now, when a supervisor is about to move one that is not theirs
        (what the audit log records as before); None otherwise."""
        if self.audit is None or not who.can(Role.SUPERVISOR):
            return None
        conv = await self.store.conversations.get(cid)
        if conv is None or conv.agent == who.agent_id:
            return None
        return {"agent": conv.agent, "pool": conv.pool, "state": conv.state.value}
