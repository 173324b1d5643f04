"""Private notes: what staff write in a conversation for each other, never for the customer.

A note is a transcript line with direction `note` (like the router's own transfer notes), so it
is shown wherever staff read the conversation, live, in the history panel and in the archive,
and nowhere else: it never enters the outbox, so no channel and no web chat page can get one.
The assigned agent and the note's author see it live; each agent named as `@id` gets a
`mention` frame, whether or not the conversation is theirs, and from then on may read the
conversation and write notes in it (router/web/access.py), though not reply to the customer.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from kefu_common.errors import ProtocolError
from router.auth import Principal
from router.models import Channel, Direction, Kind, Message, Sender
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.agents import Emit

MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")
"""`@alice` at a word's start; an e-mail address's '@' is not one."""


@dataclass(frozen=True, slots=True)
class Written:
    message: dict[str, Any]
    """The note as staff see it (Message.public: `note: true`)."""
    mentioned: tuple[str, ...]
    new: bool
    """False when this client_msg_id was written before (a resend): nothing was sent again."""


def mentions(text: str, known: set[str]) -> tuple[str, ...]:
    """The agent ids the text names with @, in order, once each; unknown names are plain text."""
    out: list[str] = []
    for m in MENTION.finditer(text):
        name = m.group(1).rstrip(".-")
        if name in known and name not in out:
            out.append(name)
    return tuple(out)


class Notes:
    def __init__(self, store: Store, transcript: Transcript) -> None:
        self.store = store
        self.transcript = transcript

    async def write(self, cid: str, who: Principal, text: str, client_msg_id: str) -> Written:
        conv = await self.store.conversations.get(cid)
        if conv is None:
            raise ProtocolError("unknown_conversation", f"no conversation {cid}", 404)
        # One id per (author, client_msg_id): a resent frame appends nothing the second time.
        note_id = "n_" + hashlib.sha256(f"{who.agent_id}\n{client_msg_id}".encode()).hexdigest()[:24]
        known = {a.id for a in await self.store.agents.all()}
        named = mentions(text, known)
        msg = Message(
            id=note_id, channel=Channel(conv.channel or "webchat"), account=conv.account or "", native_id=note_id,
            sender_ref=conv.chat or "", direction=Direction.NOTE, sender=Sender.AGENT, kind=Kind.TEXT, text=text,
            ts=time.time(), conversation_id=cid, customer_id=conv.customer_id, agent_id=who.agent_id,
        )
        new = await self.transcript.append(msg)
        # Before they are told: a mentioned agent who opens the link at once may read it.
        await self.store.conversations.add_readers(cid, named, msg.ts)
        view = msg.public()
        if named:
            view["mentions"] = list(named)
        if new:
            frame = json.dumps({"type": "message", "conversation_id": cid, "message": view}, ensure_ascii=False)
            staff = {a for a in (conv.agent, who.agent_id) if a}
            calls = [Emit(aid, frame) for aid in sorted(staff)]
            for aid in named:
                calls.append(Emit(aid, json.dumps({
                    "type": "mention", "conversation_id": cid, "by": who.agent_id, "by_name": who.name,
                    "message": view, "assigned_to": conv.agent}, ensure_ascii=False)))
            for result in await self.store.run_many(calls):
                if isinstance(result, Exception):
                    raise result
        return Written(view, named, new)
