"""The route worker: reads one partition of the inbound stream in batches and routes each message.
Every process runs one per partition (`redis.partitions`).

A batch costs two round trips whatever its size besides its read: resolve (customer and
conversation; none for lines whose ingest resolved them, on one server), then the route scripts
(each appending its line to the transcript first on one server; on a Cluster the appends go
before them, in another slot). Its XACK+XDEL go with the next read, just before it
(GroupConsumer.ack_with_read); in the loop, on one server, that read rides at the end of the
routes' pipeline and does not block (GroupConsumer.read_along), so at a peak a turn is one round
trip. The in-order check asks Redis only about senders whose previous line this process did not
route itself (line_order.py). Deciding happens in between, in process, by the rule engine. An
entry is acked only after its effects are in Redis; a re-read entry (crash, XAUTOCLAIM) meets the
`applied` marker and has no second effect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from router.config.settings import WorkerSettings
from router.media.base import MediaNotFound, MediaStore
from router.models import Message, decode_message, new_id
from router.pipeline.line_order import LineOrder
from router.pipeline.streams import DeadLetters, Entry, StreamLoop, failure
from router.pipeline.transcript import Transcript
from router.stalls import Histogram
from router.store import Store
from router.store.calls.routing import Resolve, Resolved, Route, resolved
from router.store.client import REDIS_ERRORS
from router.store.keys import INBOUND_GROUP
from routing_rules.model import Decision, RuleInput

log = logging.getLogger("kefu.worker")

APPLIED_TTL_S = 7 * 24 * 3600
ROUTE_DELAY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


_RECORD = msgspec.json.Encoder()
"""The decision record, encoded once per new conversation (msgspec: a few times json's speed)."""


class Decider(Protocol):
    """The seam the rule engine plugs into: a pure decision per message."""

    def decide(self, inp: RuleInput) -> Decision: ...


class BotStage(Protocol):
    """The seam the bot plugs into: woken when route.lua queued lines for it (they are in Redis
    already), and told of a new conversation the rules sent straight to people that waits."""

    def wake(self) -> None: ...

    async def queued(self, conversation_id: str, message: Message) -> None: ...


class ProfileJobs(Protocol):
    """The seam the channel-profile fetcher plugs into (router/pipeline/profile_fetch.py)."""

    def schedule(self, msgs: Sequence[Message]) -> None: ...


class MediaJobs(Protocol):
    """The seam the media fetcher plugs into (router/pipeline/media_fetch.py): customers' files
    the channel only referenced are fetched in the background once their conversation is known."""

    async def schedule(self, msgs: Sequence[Message]) -> None: ...


class RatingReplies(Protocol):
    """The seam CSAT on WeChat and Telegram plugs into (router/ops/csat.py): a customer's bare
    1-5 after the rating prompt is their rating, recorded there and not routed."""

    async def answer(self, m: Message) -> bool: ...


class DecisionSource(Protocol):
    """Hands out the current decider; swapping it is how a new rule version goes live."""

    @property
    def current(self) -> Decider: ...


class RouteWorker(StreamLoop):
    name = "route worker"

    def __init__(self, store: Store, transcript: Transcript, rules: DecisionSource, settings: WorkerSettings,
                 bot: BotStage | None = None, burst_window_s: float = 0.0, media: MediaStore | None = None,
                 fetches: MediaJobs | None = None, part: int = 0,
                 ratings: RatingReplies | None = None, profiles: ProfileJobs | None = None) -> None:
        k = store.keys.partition(part)
        super().__init__(store, part, k.inbound, INBOUND_GROUP, settings.claim_idle_ms,
                         DeadLetters(k.inbound_dead_letters, k.inbound_tries, settings.max_tries))
        self.transcript, self.rules, self.settings, self.bot = transcript, rules, settings, bot
        self.media = media
        self.ratings = ratings
        self.burst_window_s = burst_window_s
        """Lines this close together are one turn for the bot and one notification for agents."""
        self.fetches = fetches
        self.profiles = profiles
        self.routed = 0
        self.outcomes: Counter[tuple[str, str]] = Counter()
        """Messages this process routed, by (pool, outcome: assigned, queued, bot, ...)."""
        self.delay = Histogram(ROUTE_DELAY_BUCKETS)
        """Seconds from Redis taking each line in (its entry id's clock) to its route's effects:
        the queue ahead of this worker and its work. At a peak it is where a burst of new chats
        waits; `kefu_route_delay_seconds` in /metrics."""
        self.order = LineOrder(self.streams, settings.claim_idle_ms)
        self._reading_along = False
        """In the loop's turn: each batch's routes bring the next batch along (`_route`). Batches
        a test routes by hand read nothing they did not ask for."""
        self._ahead: list[Entry] = []
        """Entries the last batch's round trip brought along, routed next."""

    async def _turn(self) -> None:
        if self.group.claim_due():
            await self._claim()
        entries, self._ahead = self._ahead, []
        if not entries:
            # While lines wait for their predecessors, look again soon rather than block for long.
            block_ms = min(self.settings.block_ms, 50) if self.order.held else self.settings.block_ms
            entries = await self.group.read(self.settings.batch_size, block_ms)
        held = self.order.take_held()
        if entries or held:
            self._reading_along = True
            try:
                await self.process(sorted([*held, *entries], key=lambda e: _sid(e[0])))
            finally:
                self._reading_along = False

    async def _settle(self) -> None:
        """Entries a route's round trip brought along are routed before the loop ends: left
        alone, they would wait in this consumer's pending entries until another one claims them."""
        if self._ahead:
            entries, self._ahead = self._ahead, []
            await self.process(entries)
        await super()._settle()

    async def _claim(self) -> None:
        """Take back entries a dead consumer left pending past the idle limit."""
        start = "0-0"
        for _ in range(100):  # bounded: at most 100 x batch entries per sweep
            start, live = await self.group.claim(self.settings.batch_size, start)
            live = [e for e in live if e[0] not in self.order.held]
            if live:
                log.info("reclaimed %d pending inbound entries", len(live))
                await self.process(live)
            if start == "0-0":
                break

    async def process(self, entries: list[Entry]) -> None:
        """Route one batch; ack what was routed, count a failed try for the rest.

        Failure isolation per entry (arq's per-job tries): a Redis error is the connection's, so
        it ends the batch and the loop retries it; anything else is the entry's. Should the batch
        as a whole raise, its entries are routed one by one, so only the culprit is charged.
        """
        try:
            await self._process(entries)
        except REDIS_ERRORS:
            raise
        except Exception as exc:
            if len(entries) == 1:
                await self.group.failed(entries[0], failure(exc))
                return
            log.exception("a batch of %d inbound entries failed; routing them one by one", len(entries))
            for entry in entries:
                await self.process([entry])

    async def _process(self, entries: list[Entry]) -> None:
        msgs: list[tuple[str, Message]] = []
        by_id = dict(entries)
        for entry in entries:
            try:
                msgs.append((entry[0], decode_message(entry[1]["m"])))
            except (KeyError, msgspec.DecodeError, msgspec.ValidationError) as exc:
                await self.group.failed(entry, f"undecodable: {failure(exc)}", hopeless=True)
        msgs, lines = await self.order.ready(msgs, by_id)
        if self.settings.debug_delay_ms:
            for _ in msgs:  # crash drills: widen the window in which a batch is in flight
                await asyncio.sleep(self.settings.debug_delay_ms / 1000)
        rated: list[str] = []
        if self.ratings is not None:
            rest: list[tuple[str, Message]] = []
            for eid, m in msgs:
                if await self.ratings.answer(m):
                    rated.append(eid)
                else:
                    rest.append((eid, m))
            msgs = rest
        done, failures = await self._route(msgs, {eid: by_id[eid]["r"] for eid, _ in msgs if "r" in by_id[eid]})
        done += rated
        if done:
            # The routing effects must outlive their master before the entries that caused them go.
            await self.store.replicated(self.store.keys.conv_index)
        routed: dict[str, int] = {}
        for eid in done:
            if eid in lines:
                ident, n = lines[eid]
                routed[ident] = max(routed.get(ident, 0), n)
        self.group.ack_with_read(done, routed=routed, routed_ttl_s=APPLIED_TTL_S)
        self.order.remember(routed)
        for eid, reason in failures:
            await self.group.failed((eid, by_id[eid]), reason)

    async def _route(self, msgs: list[tuple[str, Message]], carried: dict[str, str]
                     ) -> tuple[list[str], list[tuple[str, str]]]:
        """(entries routed or found done before, (entry, reason) for each that failed).
        `carried`: the resolve an entry brought from its ingest (field `r`: ingest_direct.lua
        resolved a line that opens a conversation); the others are resolved here. A carried
        resolve holds until the route, however late: it found the conversation new, and nothing
        but the route moves a conversation out of new (router/store/lifecycle.py)."""
        if not msgs:
            return [], []
        now = time.time()
        known: dict[str, Resolved] = {}
        for eid, text in carried.items():
            try:
                known[eid] = resolved(msgspec.json.decode(text))
            except (msgspec.DecodeError, ValueError, TypeError, IndexError):
                log.warning("inbound entry %s carries a resolve that does not read; resolving it again", eid)
        calls = [Resolve(m.id, f"{m.channel}:{m.account}:{m.sender_ref}", new_id("cu"), new_id("c"), now,
                         self.settings.reopen_window_s, m.channel, m.account, m.sender_ref,
                         m.customer_name or "", m.customer_avatar or "")
                 for eid, m in msgs if eid not in known]
        answers = iter(await self.store.run_many(calls) if calls else [])
        resolved_ = [known[eid] if eid in known else next(answers) for eid, _ in msgs]
        decider = self.rules.current  # one whole rule version for the whole batch
        routed: list[tuple[str, Message, Decision]] = []
        fresh: set[str] = set()  # conversations this batch found new, before routing them
        done: list[str] = []
        failures: list[tuple[str, str]] = []
        for (eid, m), res in zip(msgs, resolved_, strict=True):
            if isinstance(res, Exception):
                failures.append((eid, f"resolve: {failure(res)}"))
                continue
            if res.dup:
                done.append(eid)
                continue
            if res.state == "new":
                fresh.add(res.cid)
            m = msgspec.structs.replace(m, conversation_id=res.cid, customer_id=res.customer)
            m = await self._claim_media(m)
            try:
                decision = decider.decide(rule_input(m, res, now))
            except Exception as exc:  # this message's input, or a rule that fails on it
                failures.append((eid, f"decide: {failure(exc)}"))
                continue
            routed.append((eid, m, decision))

        if self.fetches is not None:
            # Before the route, which marks the entry applied: a crash between the two fetches
            # when the entry is read again, never not at all.
            await self.fetches.schedule([m for _, m, _d in routed])

        # One server: each route script appends its transcript line first (route.lua), one call a
        # line instead of an append and a route. A Cluster keeps them apart (other slots).
        folded = not self.store.cluster
        # The decision record only where route.lua keeps it: a conversation resolve found new.
        routes = [Route(m.id, m.conversation_id or "", now, msgspec.json.encode(m.public()).decode(), d.pool,
                        d.priority, tuple(d.skills), d.min_level, bool(d.bot_first and self.bot),
                        decision_json(d) if m.conversation_id in fresh else "",
                        APPLIED_TTL_S, self.burst_window_s,
                        plain=m.native_media is None, line=self.transcript.line(m) if folded else "",
                        transcript_max=self.transcript.max_messages)
                  for _, m, d in routed]
        lines: list[Any]
        if folded:
            if self._reading_along:
                # The next batch comes along with this one's routes, and the acks kept from the
                # last one with it: at a peak the next lines are in the stream by then, and the
                # read they waited for after every batch costs no round trip of its own. When
                # they are not, the turn's blocking read follows as before. Batches are still
                # routed one after another, in order, so a sender's lines keep theirs.
                along = self.group.read_along(self.settings.batch_size)
                try:
                    outcomes, replies = await self.store.run_many_then(routes, along.queue)
                except BaseException:
                    along.unsent()
                    raise
                self._ahead += along.entries(replies)
            else:
                outcomes = await self.store.run_many(routes)
            lines = [o if isinstance(o, BaseException) else o.appended for o in outcomes]
        else:
            appends = [self.transcript.append_call(m) for _, m, _d in routed]
            # The transcript and the agent's events live on different masters, and a cluster
            # pipeline runs its nodes' parts side by side: the `message` event could then reach a
            # console whose snapshot read the transcript a moment before the line landed, and the
            # console would show the message in neither. The line lands first; then the route.
            lines = await self.store.run_many(appends)
            outcomes = await self.store.run_many(routes)
        await self.transcript.announce([(m.conversation_id or "", a.id)
                                        for (_, m, _d), a in zip(routed, lines, strict=True)
                                        if not isinstance(a, BaseException) and a.new])
        to_bot = False
        to_people: dict[str, Message] = {}
        routed_at = time.time()
        for (eid, m, d), appended, res in zip(routed, lines, outcomes, strict=True):
            if isinstance(appended, Exception) or isinstance(res, Exception):
                failures.append((eid, f"route: {failure(appended if isinstance(appended, Exception) else res)}"))
                continue
            done.append(eid)
            if res.status == "dup":
                continue  # routed before: an entry read again after a crash, nothing new to count or tell
            self.routed += 1
            self.outcomes[(d.pool, res.state)] += 1
            # The entry id is Redis's clock, this is ours: another host's skew clamps at zero.
            self.delay.observe(max(routed_at - _sid(eid)[0] / 1000, 0.0))
            if res.state == "bot" and self.bot is not None:
                to_bot = True
            elif res.state == "queued" and self.bot is not None and m.conversation_id in fresh:
                to_people.setdefault(m.conversation_id, m)  # a burst's first line queued it
        if self.profiles is not None:
            self.profiles.schedule([m for eid, m, _d in routed if eid in done])
        if to_bot and self.bot is not None:
            self.bot.wake()
        for cid, first in to_people.items():
            await self._queued(cid, first)
        return done, failures

    async def _claim_media(self, m: Message) -> Message:
        """A web chat upload is its visitor's until the message carrying it is routed: from now on
        the conversation owns it (its staff may read it, its retention deletes it). Claiming is
        idempotent, so an entry routed again after a crash claims again harmlessly."""
        ref = m.media
        if ref is None or self.media is None or ":" not in ref.conversation or not m.conversation_id:
            return m
        try:
            claimed = await self.media.claim(ref.id, m.conversation_id)
        except MediaNotFound:
            log.warning("message %s names media %s, which is gone (never sent for a day?)", m.id, ref.id)
            return m
        return msgspec.structs.replace(m, media=claimed)

    async def _queued(self, cid: str, m: Message) -> None:
        """Tell the bot a new conversation waits for people (its off-hours notice). The routing
        is done and stays done: a failed notice is logged, not retried with the batch."""
        try:
            await self.bot.queued(cid, m)  # type: ignore[union-attr]
        except Exception:
            log.exception("off-hours notice for %s failed", cid)


def _sid(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def rule_input(m: Message, res: Resolved, now: float) -> RuleInput:
    """What the rules see of a line and its resolve. A customer never seen is `Resolved(False)`:
    the defaults are a new customer's facts (Ingestor decides their first line before it is taken
    in, ingest_open.lua)."""
    return RuleInput(
        text=m.text, channel=m.channel, account=m.account, now=datetime.fromtimestamp(m.ts or now, UTC),
        kind=m.kind.value, customer_tags=frozenset(res.tags), segment=res.segment,
        message_count=res.messages + 1, reopened=res.reopened > 0, previous_pool=res.previous_pool,
        product_id=str(res.product["id"]) if res.product and "id" in res.product else None,
        product_title=str((res.product or {}).get("title", "")),
    )


def decision_json(d: Decision) -> str:
    """The decision record as route.lua keeps it on a new conversation."""
    return _RECORD.encode(decision_record(d)).decode()


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
        "steps": list(d.steps),  # the conditions as codes: the console words them (routing_rules/reasons.py)
        "decided_at": time.time(),
    }
