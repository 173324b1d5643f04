"""The bot stage: answers conversations the rules put in the `bot` state, one turn at a time.

route.lua queues each customer line of a bot conversation in Redis with a due time that slides
while the customer keeps typing (the debounce window). Whichever process finds a due turn
first takes it under a lease (bot_take.lua), runs the brain, queues the replies, hands off if
the brain says so, and only then drops the lines (bot_done.lua). A process that dies anywhere
in between leaves the lines and the due time in Redis for another one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.registry import capabilities
from router.bot.brain import off_hours_notice, respond
from router.bot.brain_types import DEFAULT_ORDER_ID, BotAction, BotConfig, BotContext, BotState, Pending
from router.bot.config import BotSettings
from router.bot.effects import Chat, Effects, HandoffPlan
from router.bot.hours import BusinessHours
from router.bot.library import Library
from router.bot.llm import LlmClient, LlmTurn
from router.bot.llm_step import with_model
from router.bot.orders import OrderService
from router.bot.products import ProductService
from router.models import Message
from router.pipeline.outbox import Outbox
from router.pipeline.transcript import Transcript
from router.pipeline.worker import DecisionSource
from router.store import Store
from router.store.calls.background import BotClose, BotDone, BotTake
from router.store.calls.customers import Link
from router.store.client import REDIS_ERRORS
from router.supervisor import Loop
from routing_rules.intents import builtin_table, normalize
from routing_rules.model import RuleInput

log = logging.getLogger("kefu.bot")

FILE_KINDS = ("image", "video", "file")
"""Kinds of line the bot never answers itself: it hands them to a person (reason `media`)."""
LEASE_S = 30.0
IDLE_SWEEP_S = 5.0
_TABLE = builtin_table()


def dump_state(st: BotState) -> str:
    return json.dumps({k: (v.value if isinstance(v, Pending) else v) for k, v in dataclasses.asdict(st).items()})


def load_state(raw: str) -> BotState:
    if not raw:
        return BotState()
    d: dict[str, Any] = json.loads(raw)
    for key in ("pending", "verify_kind"):
        if d.get(key):
            d[key] = Pending(d[key])
    if "verified" in d:
        d["verified"] = tuple(d["verified"])
    names = {f.name for f in dataclasses.fields(BotState)}
    return BotState(**{k: v for k, v in d.items() if k in names})


class BotStage(Loop):
    """Implements router.pipeline.worker.BotStage (`wake()`: route.lua queued new lines, look at
    the due times again now); `run()` is the turn loop of this process."""

    name = "bot"

    def __init__(self, store: Store, transcript: Transcript, outbox: Outbox, rules: DecisionSource,
                 settings: BotSettings, library: Library, orders: OrderService | None,
                 hours: BusinessHours | None, shop: str, pools: Sequence[str],
                 products: ProductService | None = None, llm: LlmClient | None = None) -> None:  # fmt: skip
        super().__init__()
        self.store = store
        self.keys = store.keys
        self.rules = rules
        self.settings = settings
        self.library = library
        self.orders = orders
        self.products = products
        self.llm = llm
        self.hours = hours
        self.pools = frozenset(pools)
        self.effects = Effects(store, transcript, outbox)
        pattern = re.compile(settings.order_id_pattern) if settings.order_id_pattern else DEFAULT_ORDER_ID
        self.config = BotConfig(shop=shop, order_id_pattern=pattern, max_unanswered=settings.max_unanswered)
        self.clock: Callable[[], float] = time.time
        """The business-hours clock; tests fix it. Debounce timing always uses real time."""
        self.turns = 0

    @property
    def window_s(self) -> float:
        return self.settings.debounce_s

    async def start(self) -> None:
        """Load the FAQ, quick replies and compliance files (FILE:LINE:COL errors stop start-up)."""
        await asyncio.to_thread(self.library.load_all)

    async def aclose(self) -> None:
        if self.orders is not None:
            await self.orders.aclose()
        if self.products is not None:
            await self.products.aclose()
        if self.llm is not None:
            await self.llm.aclose()

    async def run(self) -> None:
        watcher = asyncio.create_task(self.library.watch(self._stopping))
        last_sweep = 0.0
        try:
            while not self._stopping.is_set():
                self._wake.clear()  # before looking: a line arriving meanwhile wakes the next look
                try:
                    wait = await self.flush()
                    if time.monotonic() - last_sweep > min(IDLE_SWEEP_S, self.settings.idle_close_s / 2):
                        last_sweep = time.monotonic()
                        await self.close_idle()
                except REDIS_ERRORS as exc:
                    log.warning("bot: Redis error, retrying in 1s: %s", exc)
                    wait = 1.0
                await self.pause(wait)
        finally:
            # Cancelled, not told to stop: after a crash the supervisor runs this again, and the
            # new run starts its own watcher.
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def flush(self) -> float:
        """Answer every due turn; return how long to sleep until the next one is due."""
        now = time.time()
        due = await self.store.bot.due(now, 50)
        # Concurrently: one slow order look-up must not hold up every other customer's answer.
        await asyncio.gather(*(self._take_logged(cid) for cid in due))
        nxt = await self.store.bot.next_due()
        if nxt is None:
            return 0.5
        # A due turn another process holds is looked at again shortly, not in a tight loop.
        return min(max(nxt - time.time(), 0.05), 0.5)

    async def _take_logged(self, cid: str) -> None:
        try:
            await self.take(cid)
        except REDIS_ERRORS as exc:
            log.warning("bot turn in %s: Redis error, tried again later: %s", cid, exc)
        except Exception:
            log.exception("bot turn in %s failed; the lease lapses and it is tried again", cid)

    async def take(self, cid: str) -> bool:
        token = os.urandom(8).hex()
        got = await self.store.run(BotTake(cid, time.time(), LEASE_S, token))
        if got is None:
            return False
        lines = got.lines
        chat = Chat(cid, got.channel, got.account, got.chat, got.customer)
        state = load_state(got.state_json)
        if got.human_replied:
            state = dataclasses.replace(state, human_replied=True)
        text = "\n".join(str(m.get("text") or "") for m in lines if str(m.get("text") or "").strip())
        turn_id = str(lines[0]["id"])
        files = sum(1 for m in lines if m.get("kind") in FILE_KINDS)
        new_state, record = await self.turn(chat, turn_id, state, text, got.pool, got.linked_order, len(lines),
                                            files=files)
        done = await self.store.run(BotDone(cid, token, len(lines), dump_state(new_state), time.time(),
                                            json.dumps(record, ensure_ascii=False) if record else ""))
        self.turns += 1
        return done

    async def turn(self, chat: Chat, turn_id: str, state: BotState, text: str, pool: str,
                   linked: str | None, lines: int, files: int = 0) -> tuple[BotState, dict[str, Any]]:  # fmt: skip
        """One turn's effects; returns the bot's new memory and the turn's record."""
        now = self.clock()
        when = datetime.fromtimestamp(now, UTC)
        decision = self.rules.current.decide(RuleInput(
            text=text, channel=chat.channel, account=chat.account, now=when))
        intents, angry = _TABLE.scan(normalize(text))
        within = self.hours.is_open(now) if self.hours else True
        next_open = self.hours.next_open(now) if self.hours and not within else None
        # Which orders the customer may see: those of their customer id or a linked identity.
        idents = await self.store.customers.identities(chat.customer)
        ctx = BotContext(
            intents=frozenset(decision.intents) | intents, angry=angry, within_hours=within,
            next_open=next_open, now=when, linked_order_id=linked, customer_id=chat.customer,
            identities=frozenset(idents), can_send_photos=capabilities(chat.channel).media,
        )
        base = HandoffPlan(pool=decision.pool if decision.pool in self.pools else pool,
                           priority=decision.priority, skills=decision.skills,
                           min_level=decision.min_level, reason="", intent="", order_id="", note="")
        if state.human_replied:
            # A person already wrote here (a supervisor stepped in): the bot says nothing more
            # and gives the conversation to people, so the customer is not left with no one.
            plan = dataclasses.replace(base, reason="human_replied")
            await self.effects.hand_off(chat, turn_id, plan, time.time())
            return dataclasses.replace(state, handed_off=True), {"topic": "human_replied"}
        if files or not text:
            # A photo, video or file is for a person to look at, whatever its caption asks: the
            # FAQ's answer to "the seam is torn, how do I return it?" is "send us a photo", which
            # the customer just did. Likewise a voice note without words.
            said = f"；客户附言: {text[:200]}" if text else ""
            note = f"客户发来 {files} 个图片/文件{said}" if files else ""
            plan = dataclasses.replace(base, reason="media", note=note)
            await self.effects.say(chat, turn_id, (self.config.texts.handoff,), self.library.compliance)
            await self.effects.hand_off(chat, turn_id, plan, time.time())
            return dataclasses.replace(state, handed_off=True), {"topic": "media"}
        action = await respond(state, text, ctx, self.orders, faq=self.library.faq, config=self.config,
                               products=self.products)
        # One question the FAQ missed: the model may answer it. (A turn of several parts keeps the
        # parts' own replies: the miss among them was already said to the customer.)
        whole = action.trace.get("topic") != "parts"
        if self.llm is not None and action.unanswered_key is not None and whole:
            action, asked = await with_model(self.llm, action, text, ctx, self.config, self.library.faq,
                                             self.library.compliance, self.orders)
            await self._count_llm(asked)
        await self._link_verified(chat, state, action.state)
        if not within and action.unanswered_key is not None and action.handoff is None and whole:
            # Nobody can help tonight either: say when agents are back rather than "rephrase".
            back = off_hours_notice(self.config, next_open, when)
            action = dataclasses.replace(action, replies=(back,), queue_for_next_shift=True,
                                         state=dataclasses.replace(action.state, off_hours_notified=True))
        if action.queue_for_next_shift:
            return await self._after_hours(chat, turn_id, action, base, text, lines, next_open)
        await self.effects.say(chat, turn_id, action.replies, self.library.compliance)
        await self._count(chat, action, text, lines)
        if action.handoff is not None:
            await self.effects.hand_off(chat, turn_id, self._plan(action, base), time.time())
            return dataclasses.replace(action.state, handed_off=True), action.trace
        return action.state, action.trace

    async def _link_verified(self, chat: Chat, before: BotState, after: BotState) -> None:
        """An order whose buyer's phone digits the customer just gave names them: whoever else
        verified it before is the same person (customer_link.lua merges, reversibly)."""
        for oid in after.verified:
            if oid in before.verified:
                continue
            try:
                await self.store.run(Link(f"{chat.channel}:{chat.account}:{chat.chat}", f"order::{oid}",
                                          chat.customer, time.time(), "order"))
            except REDIS_ERRORS as exc:  # the answer still goes; the link waits for the next proof
                log.warning("order %s not linked to %s: %r", oid, chat.customer, exc)

    def _plan(self, action: BotAction, base: HandoffPlan) -> HandoffPlan:
        """Where and why the bot hands this action's conversation to people."""
        handoff = action.handoff
        plan = dataclasses.replace(
            base,
            reason=handoff.reason.value if handoff else "off_hours",
            intent=(handoff.intent or "") if handoff else "",
            order_id=(handoff.order_id or "") if handoff else (action.state.order_id or ""),
            note=handoff.note if handoff else "",
        )
        if handoff and handoff.team == "aftersale" and self.settings.aftersale_pool in self.pools:
            plan = dataclasses.replace(plan, pool=str(self.settings.aftersale_pool))
        return plan

    async def _after_hours(self, chat: Chat, turn_id: str, action: BotAction, base: HandoffPlan, text: str,
                           lines: int, next_open: datetime | None) -> tuple[BotState, dict[str, Any]]:
        """Outside business hours the conversation is parked for people, but an agent may still be
        in (working late): move it first, and speak of off hours only when it waits. A customer an
        agent took gets no "we are closed" and no leave-a-message form after "客服 Alice 已接入"
        (issue 19)."""
        moved = await self.effects.hand_off(chat, turn_id, self._plan(action, base), time.time())
        taken = moved.state == "assigned"
        replies = action.replies
        if taken and replies:
            replies = (*replies[:-1], self.config.texts.handoff)  # the last reply is the off-hours notice
        await self.effects.say(chat, turn_id, replies, self.library.compliance)
        await self._count(chat, action, text, lines)
        if not taken and action.replies:
            await self.effects.off_hours(chat, action.replies[-1], next_open)
        return dataclasses.replace(action.state, handed_off=True), action.trace

    async def queued(self, conversation_id: str, message: Message) -> None:
        """A new conversation went straight to people and waits in a queue: outside business
        hours it gets the notice a bot-first one gets, once (only this transition calls here)."""
        now = self.clock()
        if self.hours is None or self.hours.is_open(now):
            return
        chat = Chat(conversation_id, message.channel, message.account, message.sender_ref,
                    message.customer_id or "")
        next_open = self.hours.next_open(now)
        text = off_hours_notice(self.config, next_open, datetime.fromtimestamp(now, UTC))
        # The reply id follows the message that queued it, so a retry is accepted once.
        await self.effects.say(chat, f"oh_{message.id}", (text,), self.library.compliance)
        await self.effects.off_hours(chat, text, next_open)

    async def _count_llm(self, asked: LlmTurn) -> None:
        await self.effects.count(f"llm:{asked.outcome}")
        await self.effects.count("llm_prompt_tokens", asked.prompt_tokens)
        await self.effects.count("llm_completion_tokens", asked.completion_tokens)
        await self.effects.count("llm_latency_ms", asked.latency_ms)
        log.info("bot model %s: %s in %d ms (%d prompt chars, %d+%d tokens)", asked.model, asked.outcome,
                 asked.latency_ms, asked.prompt_chars, asked.prompt_tokens, asked.completion_tokens)

    async def _count(self, chat: Chat, action: BotAction, text: str, lines: int) -> None:
        if lines > 1:
            await self.effects.count("bursts")
        if action.faq_id:
            await self.effects.count("answered_faq")
        if action.unanswered_key is not None:
            await self.effects.unknown(chat.cid, action.unanswered_key, text)
            await self.effects.count("unanswered")

    async def close_idle(self) -> int:
        """Close bot conversations quiet for `idle_close_s`: the bot resolved them."""
        before = time.time() - self.settings.idle_close_s
        ids = await self.store.bot.idle_since(before, 100)
        closed = 0
        for cid in ids:
            closed += await self.store.run(BotClose(cid, time.time(), before))
        return closed
