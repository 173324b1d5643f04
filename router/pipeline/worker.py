"""The route worker: reads the inbound stream in batches and routes each message.

A batch costs three round trips whatever its size: resolve (customer and conversation), then
transcript appends and route scripts together, then XACK+XDEL. Deciding happens in between, in
process, by the rule engine. An entry is acked only after its effects are in Redis; a re-read
entry (crash, XAUTOCLAIM) meets the `applied` marker and has no second effect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from router.config.settings import WorkerSettings
from router.models import Message, decode_message, new_id
from router.pipeline.streams import Entry, GroupConsumer, keep_going
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.routing import Resolve, Route
from router.store.keys import INBOUND_GROUP
from routing_rules.model import Decision, RuleInput

log = logging.getLogger("kefu.worker")

APPLIED_TTL_S = 7 * 24 * 3600


class Decider(Protocol):
    """The seam the rule engine plugs into: a pure decision per message."""

    def decide(self, inp: RuleInput) -> Decision: ...


class BotStage(Protocol):
    """The seam the bot plugs into: called for messages of conversations in the bot state, and
    for a new conversation the rules sent straight to people that waits in a queue."""

    async def handle(self, conversation_id: str, messages: Sequence[Message]) -> None: ...

    async def queued(self, conversation_id: str, message: Message) -> None: ...


class DecisionSource(Protocol):
    """Hands out the current decider; swapping it is how a new rule version goes live."""

    @property
    def current(self) -> Decider: ...


class RouteWorker:
    def __init__(
        self,
        store: Store,
        transcript: Transcript,
        rules: DecisionSource,
        settings: WorkerSettings,
        bot: BotStage | None = None,
        burst_window_s: float = 0.0,
    ) -> None:
        self.store = store
        self.keys = store.keys
        self.transcript = transcript
        self.rules = rules
        self.settings = settings
        self.bot = bot
        self.burst_window_s = burst_window_s
        """Lines this close together are one turn for the bot and one notification for agents."""
        self.group = GroupConsumer(store, self.keys.inbound, INBOUND_GROUP, settings.claim_idle_ms)
        self.routed = 0
        self.running = False
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        await self.group.ensure()
        self.running = True
        try:
            await keep_going(log, "route worker", self._stopping, self._turn)
        finally:
            self.running = False

    async def _turn(self) -> None:
        if self.group.claim_due():
            await self._claim()
        entries = await self.group.read(self.settings.batch_size, self.settings.block_ms)
        if entries:
            await self.process(entries)

    def stop(self) -> None:
        self._stopping.set()

    async def _claim(self) -> None:
        """Take back entries a dead consumer left pending past the idle limit."""
        start = "0-0"
        for _ in range(100):  # bounded: at most 100 x batch entries per sweep
            start, live = await self.group.claim(self.settings.batch_size, start)
            if live:
                log.info("reclaimed %d pending inbound entries", len(live))
                await self.process(live)
            if start == "0-0":
                break

    async def process(self, entries: list[Entry]) -> None:
        """Route one batch; ack only what was routed."""
        msgs: list[tuple[str, Message]] = []
        bad: list[str] = []
        for eid, fields in entries:
            try:
                msgs.append((eid, decode_message(fields["m"])))
            except (KeyError, msgspec.DecodeError, msgspec.ValidationError):
                log.error("dropping undecodable inbound entry %s", eid)
                bad.append(eid)
        if self.settings.debug_delay_ms:
            for _ in msgs:  # crash drills: widen the window in which a batch is in flight
                await asyncio.sleep(self.settings.debug_delay_ms / 1000)
        done = bad + await self._route(msgs)
        if done:
            await self.store.streams.done(self.keys.inbound, INBOUND_GROUP, done)

    async def _route(self, msgs: list[tuple[str, Message]]) -> list[str]:
        if not msgs:
            return []
        now = time.time()
        resolved = await self.store.run_many([
            Resolve(m.id, f"{m.channel.value}:{m.account}:{m.sender_ref}", new_id("cu"), new_id("c"), now,
                    self.settings.reopen_window_s, m.channel.value, m.account, m.sender_ref,
                    m.customer_name or "")
            for _, m in msgs
        ])
        decider = self.rules.current  # one whole rule version for the whole batch
        routed: list[tuple[str, Message, Decision]] = []
        fresh: set[str] = set()  # conversations this batch found new, before routing them
        done: list[str] = []
        for (eid, m), res in zip(msgs, resolved, strict=True):
            if isinstance(res, Exception):
                log.error("resolve failed for %s: %s", m.id, res)
                continue
            if res.dup:
                done.append(eid)
                continue
            if res.state == "new":
                fresh.add(res.cid)
            m = msgspec.structs.replace(m, conversation_id=res.cid, customer_id=res.customer)
            decision = decider.decide(RuleInput(
                text=m.text, channel=m.channel.value, account=m.account,
                now=datetime.fromtimestamp(m.ts or now, UTC), kind=m.kind.value,
                customer_tags=frozenset(res.tags), segment=res.segment,
                message_count=res.messages + 1, reopened=res.reopened > 0,
                previous_pool=res.previous_pool,
            ))
            routed.append((eid, m, decision))

        results = await self.store.run_many([
            *(self.transcript.append_call(m) for _, m, _d in routed),
            *(Route(m.id, m.conversation_id or "", now, msgspec.json.encode(m.public()).decode(), d.pool,
                    d.priority, tuple(d.skills), d.min_level, bool(d.bot_first and self.bot),
                    json.dumps(decision_record(d)), APPLIED_TTL_S, self.burst_window_s)
              for _, m, d in routed),
        ])
        outcomes = results[len(routed):]
        to_bot: dict[str, list[Message]] = {}
        to_people: dict[str, Message] = {}
        for (eid, m, _), appended, res in zip(routed, results[: len(routed)], outcomes, strict=True):
            if isinstance(appended, Exception) or isinstance(res, Exception):
                log.error("route failed for %s: %s", m.id, appended if isinstance(appended, Exception) else res)
                continue
            done.append(eid)
            self.routed += 1
            if res.state == "bot" and self.bot is not None and m.conversation_id:
                to_bot.setdefault(m.conversation_id, []).append(m)
            elif res.state == "queued" and self.bot is not None and m.conversation_id in fresh:
                to_people.setdefault(m.conversation_id, m)  # a burst's first line queued it
        for cid, batch in to_bot.items():
            await self.bot.handle(cid, batch)  # type: ignore[union-attr]
        for cid, first in to_people.items():
            await self._queued(cid, first)
        return done

    async def _queued(self, cid: str, m: Message) -> None:
        """Tell the bot a new conversation waits for people (its off-hours notice). The routing
        is done and stays done: a failed notice is logged, not retried with the batch."""
        try:
            await self.bot.queued(cid, m)  # type: ignore[union-attr]
        except Exception:
            log.exception("off-hours notice for %s failed", cid)


def decision_record(d: Decision) -> dict[str, Any]:
    """What the conversation keeps of its decision: why it was routed where it was."""
    return {
        "version": d.version,
        "rule": d.rule,
        "pool": d.pool,
        "priority": d.priority,
        "skills": list(d.skills),
        "min_level": d.min_level,
        "tags": list(d.tags),
        "bot_first": d.bot_first,
        "sla_profile": d.sla_profile,
        "intents": list(d.intents),
        "fallback": [{"after_s": f.after_s, "pool": f.pool, "min_level": f.min_level} for f in d.fallback],
        "conditions": list(d.explanation),
        "decided_at": time.time(),
    }
