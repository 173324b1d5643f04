"""What a chat that changes hands is owed outside the routing slot: a note, and perhaps a text.

Two steps hand a chat on. status.lua, when its agent goes offline, requeues the chats at the front
of their pools, hands them on when someone is free, and writes one handover entry per chat.
transfer.lua moves a chat to the agent or pool a person named. Each schedules, in that same step
and per chat, a durable timer (router/pipeline/timers.py) due at once that carries its entry: kind
`handover` or `transfer` (sla_lib.lua, owe_followup). The note in the transcript, and for a
handover the text to a WeChat or Telegram customer, live in other slots (`{t:…}` and `{out}`),
which a script of the `{rt}` slot may not touch on Redis Cluster; the timer is the step's own
record that they are owed. Any process's timer runner fires it and acks it only after both are
written. A crash in between leaves the timer in flight; its lease runs out and it fires again,
and both writes are keyed by the entry's id, so each lands once; the note is shown live to
the agent who got the chat only when it is first written.

Web chat pages show the status script's `agent_left` frame as a notice in the page's own
language, so a text there would say it twice. A transfer tells the customer nothing beyond the
script's `agent` frame (who has the chat now), as before it was made durable.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from router.models import Channel, Direction, Message, Sender
from router.pipeline.outbox import Outbox
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.agents import Emit

HANDOVER = "handover"
"""The timer kind status.lua schedules for each chat of an agent who went offline."""
TRANSFER = "transfer"
"""The timer kind transfer.lua schedules for the chat it moved."""
KINDS = (HANDOVER, TRANSFER)

REASONS = {
    "agent_disconnected": "lost connection",
    "shift_end": "shift ended",
    "agent_set": "went offline",
    "api": "set offline",
    "disabled": "account disabled",
}


async def note(store: Store, transcript: Transcript, cid: str, note_id: str, text: str,
               notify: str | None = None, event: dict[str, Any] | None = None) -> dict[str, Any]:
    """Append an internal note once (by `note_id`); the first time, show it to `notify` live.
    `event` is what happened as data (a `kind` and its fields), for consoles to put in words."""
    conv = await store.conversations.get(cid)
    channel, account, chat, customer = (conv.channel, conv.account, conv.chat, conv.customer_id) if conv else (
        None, None, None, None)
    msg = Message(
        id=note_id, channel=Channel(channel or "webchat"), account=account or "", native_id=note_id,
        sender_ref=chat or "", direction=Direction.NOTE, sender=Sender.SYSTEM, text=text,
        ts=time.time(), conversation_id=cid, customer_id=customer, raw={"event": event} if event else None,
    )
    new = await transcript.append(msg)
    view = msg.public()
    if notify and new:
        frame = {"type": "message", "conversation_id": cid, "message": view}
        await store.run(Emit(notify, json.dumps(frame, ensure_ascii=False)))
    return view


@dataclass(frozen=True, slots=True)
class Owed:
    """What one entry owes its chat: a note, shown live to `notify` the first time it is written,
    and, when `customer_key` is set, the agent-left text to the customer once per that key."""

    cid: str
    note_id: str
    text: str
    notify: str | None
    customer_key: str | None = None
    event: dict[str, Any] | None = None


def transferred(t: dict[str, Any]) -> Owed:
    """The note of one transfer entry (transfer.lua): who moved the chat, where, and why."""
    to, assigned = str(t["to"]), t["outcome"] == "assigned"
    where = f"to {to}" if assigned else f"to the {to} queue"
    text = f"{t['by']} transferred this conversation {where}" + (f": {t['note']}" if t.get("note") else "")
    event = {"kind": "transfer", "by": str(t["by"]), "to": to, "outcome": str(t["outcome"]),
             "note": str(t.get("note") or "")}
    return Owed(str(t["conversation_id"]), f"n_transfer_{t['id']}", text, to if assigned else None, event=event)


class Handovers:
    """The handler of `handover` and `transfer` timers: what one chat is owed, written once."""

    def __init__(self, store: Store, transcript: Transcript, outbox: Outbox, left_text: str) -> None:
        self.store = store
        self.transcript = transcript
        self.outbox = outbox
        self.left_text = left_text

    async def fire(self, tid: str, data: dict[str, Any], now: float) -> None:
        """Raises when a write fails, so the runner leaves the timer to fire again."""
        kind = str(data["kind"])
        owed = await self.went_offline(data[kind]) if kind == HANDOVER else transferred(data[kind])
        await note(self.store, self.transcript, owed.cid, owed.note_id, owed.text, notify=owed.notify,
                   event=owed.event)
        if owed.customer_key:
            # Not on web chat: the page shows the agent_left frame (see above).
            await self.outbox.tell(owed.cid, owed.customer_key, self.left_text, webchat=False)

    async def went_offline(self, h: dict[str, Any]) -> Owed:
        """The note and text of one handover entry (status.lua): who left, why, where the chat went."""
        cid, to, hid, aid = str(h["conversation_id"]), str(h.get("to") or ""), str(h["id"]), str(h["from"])
        agent = await self.store.agents.get(aid)
        name = (agent and agent.name) or aid
        why = REASONS.get(str(h.get("reason")), str(h.get("reason")))
        where = f"now with {to}" if to else f"waiting at the front of the {h.get('pool')} queue"
        event = {"kind": "handover", "name": name, "reason": str(h.get("reason") or ""), "to": to,
                 "pool": str(h.get("pool") or "")}
        return Owed(cid, f"n_handover_{hid}", f"{name} {why}; the conversation was handed over, {where}.",
                    to or None, f"handover:{hid}", event=event)
