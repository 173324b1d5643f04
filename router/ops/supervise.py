"""Supervisors in someone else's conversation (issue 19): join it and whisper in it.

**Join**: the supervisor answers the customer as themselves (the agent socket's `reply` frame,
which supervisors may send in any open conversation). Joining says so once: a note in the
transcript the assigned agent sees live, an `agent_joined` frame to the customer's web chat page
(the page names the supervisor's bubbles), and on other channels a line of text in the
customer's language. Audited.

**Whisper**: a private note for the assigned agent only. It is a transcript line with direction
`note` that carries `raw.whisper.to`, the agent it was for: it never enters the outbox or the
customer's feed, so no channel and no web chat page can get it; outbound webhooks skip it; and
every place staff read a transcript drops it unless the reader is a supervisor or that agent
(`visible`). Audited, without its text.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kefu_common.errors import ProtocolError
from router.auth import Principal
from router.models import Channel, ConversationState, Direction, Kind, Message, Role, Sender
from router.ops.audit import Audit
from router.pipeline.outbox import Outbox
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.agents import Emit

JOINED_TEXT = {"zh": "主管{name}加入了对话。", "en": "{name}, a supervisor, joined the conversation."}
"""What a customer on a channel without the web chat page's notice reads when a supervisor joins."""


def visible(messages: Iterable[dict[str, Any]], viewer: str, supervisor: bool) -> list[dict[str, Any]]:
    """Messages (as Message.public() shows them) without the whispers meant for someone else."""
    if supervisor:
        return list(messages)
    return [m for m in messages if not m.get("whisper") or m.get("whisper_to") == viewer]


def visible_to(messages: Iterable[dict[str, Any]], who: Principal) -> list[dict[str, Any]]:
    return visible(messages, who.agent_id, who.can(Role.SUPERVISOR))


@dataclass(frozen=True, slots=True)
class Joined:
    conversation_id: str
    agent: str | None
    """Whose conversation it is (None while it waits for one)."""
    new: bool
    """False when this supervisor had joined before: nothing was said again."""


class Supervise:
    def __init__(self, store: Store, transcript: Transcript, outbox: Outbox, audit: Audit) -> None:
        self.store = store
        self.transcript = transcript
        self.outbox = outbox
        self.audit = audit

    async def _open(self, cid: str) -> Any:
        conv = await self.store.conversations.get(cid)
        if conv is None:
            raise ProtocolError("unknown_conversation", f"no conversation {cid}", 404)
        if conv.state is ConversationState.CLOSED:
            raise ProtocolError("closed", f"conversation {cid} is closed", 409)
        return conv

    async def join(self, cid: str, who: Principal, addr: str = "") -> Joined:
        conv = await self._open(cid)
        # One join note per supervisor and conversation: joining again says nothing twice.
        note_id = "n_join_" + hashlib.sha256(f"{cid}\n{who.agent_id}".encode()).hexdigest()[:20]
        event = {"kind": "joined", "by": who.agent_id, "by_name": who.name}
        msg = Message(
            id=note_id, channel=Channel(conv.channel or "webchat"), account=conv.account or "", native_id=note_id,
            sender_ref=conv.chat or "", direction=Direction.NOTE, sender=Sender.SYSTEM, kind=Kind.TEXT,
            text=f"{who.name or who.agent_id} joined the conversation", ts=time.time(), conversation_id=cid,
            customer_id=conv.customer_id, raw={"event": event},
        )
        new = await self.transcript.append(msg)
        if not new:
            return Joined(cid, conv.agent, False)
        frame = json.dumps({"type": "message", "conversation_id": cid, "message": msg.public()}, ensure_ascii=False)
        staff = sorted({a for a in (conv.agent, who.agent_id) if a})
        for result in await self.store.run_many([Emit(aid, frame) for aid in staff]):
            if isinstance(result, Exception):
                raise result
        if conv.channel and conv.chat:
            _, avatar = await self.store.agents.face(who.agent_id)
            joined = {"id": who.agent_id, "name": who.name or who.agent_id, **({"avatar": avatar} if avatar else {})}
            notice = json.dumps({"type": "agent_joined", "conversation_id": cid, "agent": joined}, ensure_ascii=False)
            await self.store.publish(self.store.keys.customer_channel, f"{conv.channel}:{conv.chat}\n-\n{notice}")
            lang = await self.transcript.customer_language(cid)
            await self.outbox.tell(cid, f"joined:{cid}:{who.agent_id}",
                                   JOINED_TEXT[lang].format(name=who.name or who.agent_id), webchat=False)
        await self.audit.record(who, "conversation.join", cid, addr=addr, detail={"agent": conv.agent})
        return Joined(cid, conv.agent, True)

    async def whisper(self, cid: str, who: Principal, text: str, client_msg_id: str,
                      addr: str = "") -> dict[str, Any]:
        """Write a whisper for the conversation's agent; returns it as staff see it."""
        conv = await self._open(cid)
        if not conv.agent:
            raise ProtocolError("no_agent", f"conversation {cid} has no agent to whisper to yet", 409)
        if conv.agent == who.agent_id:
            raise ProtocolError("own_conversation", "this conversation is yours; write a note instead", 409)
        # One id per (author, client_msg_id): a resent request appends nothing the second time.
        wid = "n_w_" + hashlib.sha256(f"{who.agent_id}\n{client_msg_id}".encode()).hexdigest()[:24]
        msg = Message(
            id=wid, channel=Channel(conv.channel or "webchat"), account=conv.account or "", native_id=wid,
            sender_ref=conv.chat or "", direction=Direction.NOTE, sender=Sender.AGENT, kind=Kind.TEXT, text=text,
            ts=time.time(), conversation_id=cid, customer_id=conv.customer_id, agent_id=who.agent_id,
            raw={"whisper": {"to": conv.agent}},
        )
        new = await self.transcript.append(msg)
        view = msg.public()
        if new:
            frame = json.dumps({"type": "message", "conversation_id": cid, "message": view}, ensure_ascii=False)
            for result in await self.store.run_many([Emit(aid, frame) for aid in sorted({conv.agent, who.agent_id})]):
                if isinstance(result, Exception):
                    raise result
            await self.audit.record(who, "conversation.whisper", cid, addr=addr,
                                    detail={"to": conv.agent, "message_id": wid, "chars": len(text)})
        return view
