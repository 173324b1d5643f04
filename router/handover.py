"""What follows when an agent goes offline with open conversations.

status.lua requeues the chats at the front of their pools, hands them on when someone is free, and
writes one handover entry per chat, all in one step. The rest touches other Redis slots (the
transcript, the outbox), so it happens here, after the script: a note in the transcript for
whoever picks the chat up, and a short text to a WeChat or Telegram customer through the outbox.
Web chat pages show the script's `agent_left` frame as a notice in the page's own language, so a
text there would say it twice. Both are keyed
by the handover entry's id, so running this twice for one entry writes each only once.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from adapters.base import Reply
from router.models import Channel, Direction, Message, Sender

if TYPE_CHECKING:
    from router.runtime import Runtime

log = logging.getLogger("kefu.handover")

REASONS = {
    "agent_disconnected": "lost connection",
    "shift_end": "shift ended",
    "agent_set": "went offline",
    "api": "set offline",
}


async def note(rt: Runtime, cid: str, note_id: str, text: str, notify: str | None = None) -> dict[str, Any]:
    """Append an internal note once (by `note_id`); show it to `notify` if an agent has the chat."""
    conv = await rt.store.client.hmget(rt.store.keys.conv(cid), "channel", "account", "chat", "customer")
    channel, account, chat, customer = conv
    msg = Message(
        id=note_id, channel=Channel(channel or "webchat"), account=account or "", native_id=note_id,
        sender_ref=chat or "", direction=Direction.NOTE, sender=Sender.SYSTEM, text=text,
        ts=time.time(), conversation_id=cid, customer_id=customer,
    )
    await rt.transcript.append(msg)
    view = msg.public()
    if notify:
        frame = {"type": "message", "conversation_id": cid, "message": view}
        await rt.store.call("emit", [notify, json.dumps(frame, ensure_ascii=False)])
    return view


async def after_offline(rt: Runtime, aid: str, handovers: list[dict[str, Any]]) -> None:
    """Note and tell the customer, for each chat `aid` just handed back."""
    agent = await rt.store.agent(aid)
    name = (agent or {}).get("name") or aid
    for h in handovers:
        cid, to, hid = str(h["conversation_id"]), str(h.get("to") or ""), str(h["id"])
        why = REASONS.get(str(h.get("reason")), str(h.get("reason")))
        where = f"now with {to}" if to else f"waiting at the front of the {h.get('pool')} queue"
        try:
            await note(rt, cid, f"n_handover_{hid}", f"{name} {why}; the conversation was handed over, {where}.",
                       notify=to or None)
            await tell_customer(rt, cid, f"handover:{hid}", rt.settings.ops.agent_left_text, webchat=False)
        except Exception:
            # The requeue itself is done and durable; a lost note must not stop the others.
            log.exception("handover %s of %s: note or customer text failed", hid, cid)


async def tell_customer(rt: Runtime, cid: str, key: str, text: str, webchat: bool = True) -> None:
    """A system text to the customer through the outbox, once per `key`, on their channel."""
    f = await rt.store.client.hmget(rt.store.keys.conv(cid), "channel", "account", "chat", "customer")
    channel, account, chat, customer = f
    if not (channel and chat) or (channel == Channel.WEBCHAT.value and not webchat):
        return
    reply = Reply(
        id=f"m_sys_{key.replace(':', '_')}", conversation_id=cid, customer_id=customer or "",
        channel=Channel(channel), account=account or "", chat=chat, text=text, author="system",
        sender=Sender.SYSTEM, client_msg_id=key, ts=time.time(),
    )
    await rt.outbox.enqueue(reply)
