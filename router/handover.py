"""What follows when an agent goes offline with open conversations.

status.lua requeues the chats at the front of their pools, hands them on when someone is free, and
writes one handover entry per chat, all in one step. In that same step it schedules, per entry, a
durable timer of kind `handover` (router/timers.py), due at once, that carries the entry. The
note in the transcript and the text to a WeChat or Telegram customer live in other slots (`{t:…}`
and `{out}`), which a script of the `{rt}` slot may not touch on Redis Cluster; the timer is the
step's own record that they are owed. Any process's timer runner fires it and acks it only after
both are written. A crash in between leaves the timer in flight; its lease runs out and it fires
again, and both writes are keyed by the handover entry's id, so each lands once.

Web chat pages show the script's `agent_left` frame as a notice in the page's own language, so a
text there would say it twice.
"""

from __future__ import annotations

import json
import time
from typing import Any

from adapters.base import Reply
from router.models import Channel, Direction, Message, Sender
from router.outbox import Outbox
from router.store import Store
from router.transcript import Transcript

KIND = "handover"
"""The timer kind status.lua schedules for each handed-over chat."""

REASONS = {
    "agent_disconnected": "lost connection",
    "shift_end": "shift ended",
    "agent_set": "went offline",
    "api": "set offline",
}


async def note(store: Store, transcript: Transcript, cid: str, note_id: str, text: str,
               notify: str | None = None) -> dict[str, Any]:
    """Append an internal note once (by `note_id`); the first time, show it to `notify` live."""
    conv = await store.client.hmget(store.keys.conv(cid), "channel", "account", "chat", "customer")
    channel, account, chat, customer = conv
    msg = Message(
        id=note_id, channel=Channel(channel or "webchat"), account=account or "", native_id=note_id,
        sender_ref=chat or "", direction=Direction.NOTE, sender=Sender.SYSTEM, text=text,
        ts=time.time(), conversation_id=cid, customer_id=customer,
    )
    new = await transcript.append(msg)
    view = msg.public()
    if notify and new:
        frame = {"type": "message", "conversation_id": cid, "message": view}
        await store.call("emit", [notify, json.dumps(frame, ensure_ascii=False)])
    return view


class Handovers:
    """The handler of `handover` timers: the note and the customer's text for one chat."""

    def __init__(self, store: Store, transcript: Transcript, outbox: Outbox, left_text: str) -> None:
        self.store = store
        self.transcript = transcript
        self.outbox = outbox
        self.left_text = left_text

    async def fire(self, tid: str, data: dict[str, Any], now: float) -> None:
        """Raises when a write fails, so the runner leaves the timer to fire again."""
        h = data["handover"]
        cid, to, hid, aid = str(h["conversation_id"]), str(h.get("to") or ""), str(h["id"]), str(h["from"])
        agent = await self.store.agent(aid)
        name = (agent or {}).get("name") or aid
        why = REASONS.get(str(h.get("reason")), str(h.get("reason")))
        where = f"now with {to}" if to else f"waiting at the front of the {h.get('pool')} queue"
        await note(self.store, self.transcript, cid, f"n_handover_{hid}",
                   f"{name} {why}; the conversation was handed over, {where}.", notify=to or None)
        await self.tell_customer(cid, f"handover:{hid}")

    async def tell_customer(self, cid: str, key: str) -> None:
        """The agent-left text through the outbox, once per `key`; not on web chat (see above)."""
        f = await self.store.client.hmget(self.store.keys.conv(cid), "channel", "account", "chat", "customer")
        channel, account, chat, customer = f
        if not (channel and chat) or channel == Channel.WEBCHAT.value:
            return
        reply = Reply(
            id=f"m_sys_{key.replace(':', '_')}", conversation_id=cid, customer_id=customer or "",
            channel=Channel(channel), account=account or "", chat=chat, text=self.left_text, author="system",
            sender=Sender.SYSTEM, client_msg_id=key, ts=time.time(),
        )
        await self.outbox.enqueue(reply)
