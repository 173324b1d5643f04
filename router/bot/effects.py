"""What a bot turn does to the world: replies through the outbox, the handoff, counters.

Every effect is idempotent per turn, because a turn is retried whole when the process that
took it dies: replies carry client_msg_id "<first line id>:<n>" (the outbox accepts each once),
the note has a fixed id, and the handoff script does nothing unless the conversation is still
with the bot.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from router.bot.compliance import CompliancePolicy
from router.bot.pii import mask_pii
from router.models import WEBCHAT, Channel, Direction, Message, Reply, Sender
from router.pipeline.outbox import Outbox
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.background import BotHandoff
from router.store.calls.routing import Moved

log = logging.getLogger("kefu.bot")


@dataclass(frozen=True, slots=True)
class Chat:
    """Where a conversation's replies go, as bot_take read it from the conversation hash."""

    cid: str
    channel: str
    account: str
    chat: str
    customer: str


@dataclass(frozen=True, slots=True)
class HandoffPlan:
    """Where and why the conversation goes to people, with what the bot learned."""

    pool: str
    priority: int
    skills: tuple[str, ...]
    min_level: int
    reason: str
    intent: str
    order_id: str
    note: str


class Effects:
    def __init__(self, store: Store, transcript: Transcript, outbox: Outbox) -> None:
        self.store = store
        self.keys = store.keys
        self.transcript = transcript
        self.outbox = outbox

    async def say(self, chat: Chat, turn_id: str, texts: tuple[str, ...], policy: CompliancePolicy) -> int:
        """Queue the bot's replies in order; a blocked text (block mode) is left out."""
        sent = 0
        for n, text in enumerate(texts):
            check = policy.check(text)
            if check.blocked:
                log.error("bot reply in %s withheld: banned terms %s", chat.cid,
                          [f.term for f in check.findings])
                continue
            if check.findings:
                log.warning("bot reply in %s has banned terms %s", chat.cid, [f.term for f in check.findings])
            await self.outbox.enqueue(Reply(
                id=f"m_bot_{turn_id}_{n}", conversation_id=chat.cid, customer_id=chat.customer,
                channel=Channel(chat.channel), account=chat.account, chat=chat.chat, text=text,
                author="bot", sender=Sender.BOT, client_msg_id=f"{turn_id}:{n}", ts=time.time(),
            ))
            sent += 1
        return sent

    async def off_hours(self, chat: Chat, text: str, back_at: datetime | None) -> None:
        """Tell an open web chat page when agents are back; other channels get the text only."""
        if chat.channel != WEBCHAT:
            return
        frame = json.dumps({"type": "off_hours", "conversation_id": chat.cid, "text": text,
                            "back_at": back_at.timestamp() if back_at else None,
                            # The page says "today 09:00" in the shop's zone, not the browser's.
                            "timezone": getattr(back_at.tzinfo, "key", None) if back_at else None},
                           ensure_ascii=False)
        await self.store.publish(self.keys.customer_channel, f"{chat.channel}:{chat.chat}\n-\n{frame}")

    async def hand_off(self, chat: Chat, turn_id: str, plan: HandoffPlan, now: float) -> Moved:
        """Note what the bot learned in the transcript, then move bot -> queued (-> assigned)."""
        learned = [f"转人工原因: {plan.reason}"]
        if plan.intent:
            learned.append(f"意图: {plan.intent}")
        if plan.order_id:
            learned.append(f"订单号: {plan.order_id}")
        if plan.note:
            learned.append(plan.note)
        await self.transcript.append(Message(
            id=f"n_bot_{turn_id}", channel=Channel(chat.channel), account=chat.account,
            native_id=f"n_bot_{turn_id}", sender_ref=chat.chat, direction=Direction.NOTE,
            sender=Sender.BOT, text="；".join(learned), ts=now, conversation_id=chat.cid,
            customer_id=chat.customer,
            # The reason and intent as codes: the console words them in its language (issue 19).
            raw={"event": {"kind": "bot_handoff", "reason": plan.reason, "intent": plan.intent,
                           "order_id": plan.order_id, "note": plan.note}},
        ))
        return await self.store.run(BotHandoff(chat.cid, now, plan.pool, plan.priority, tuple(plan.skills),
                                               plan.min_level, plan.reason, plan.intent, plan.order_id, plan.note))

    async def unknown(self, cid: str, key: str, question: str) -> None:
        """Count a question the bot could not answer, grouped by its normalised form."""
        # Logged as asked: the PII filter on the kefu loggers masks it (tests check that it does).
        log.info("unanswered question in %s: %s", cid, question.strip()[:500])
        masked = mask_pii(question.strip())[:500]
        if not key:
            return
        await self.store.bot.unanswered(key, masked)

    async def count(self, field: str, n: int = 1) -> None:
        await self.store.bot.count(field, n)
