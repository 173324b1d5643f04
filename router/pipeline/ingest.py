"""Ingest: the one door into the router. An adapter hands over a parsed message; once this
returns, the message is durable (in the inbound stream, or already routed) and the channel may be
told "accepted".

A customer's text follow-up to a conversation someone holds (an agent, a queue, the bot) needs no
decision, so on one Redis server it is routed in the same script that takes it in
(router/store/lua/ingest_direct.lua): the agent sees it without the route worker's wake-up and
four round trips. The first line of a web chat visitor the router has never seen is decided
before it is taken in (a new customer's facts are the rules' defaults) and routed in the same
script too (ingest_open.lua). Every other line, and every line on a Cluster, goes through the
inbound stream to the route worker."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import msgspec

from kefu_common.errors import StoreUnavailable
from router.models import WEBCHAT, Kind, Message, encode_message, new_id
from router.pipeline.worker import DecisionSource, decision_json, rule_input
from router.store import Store
from router.store.calls import Call
from router.store.calls.routing import IngestDirect, IngestOpen, Resolved, Taken
from router.store.calls.streams import Added, Ingest
from router.store.client import REDIS_ERRORS

log = logging.getLogger("kefu.ingest")
_R = TypeVar("_R")

DEDUPE_TTL_S = 7 * 24 * 3600
"""How long a native message id is remembered: longer than any channel retries."""


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: str
    duplicate: bool


APPLIED_TTL_S = 7 * 24 * 3600
"""As the route worker's: how long a routed line's marks (applied, the sender's last routed line)
are kept."""


DIRECT_CHANNELS = frozenset({WEBCHAT, "wechat", "telegram"})
"""Channels whose text lines the route worker does nothing else with once their conversation is
held (WeCom's kf sessions have states of their own to keep)."""


class ProfileJobs(Protocol):
    """As the route worker's seam (router/pipeline/profile_fetch.py): a customer's channel profile
    is refreshed now and then as their lines are routed."""

    def schedule(self, msgs: Sequence[Message]) -> None: ...


@dataclass(frozen=True, slots=True)
class Direct:
    """How follow-ups are routed at ingest (WorkerSettings.direct_follow_ups)."""

    burst_window_s: float = 0.0
    """As the route worker's: lines this close together ask for the agent's attention once."""
    transcript_max: int = 0
    """As Transcript.max_messages: a cap on a transcript stream's length (0: none)."""
    held_back: Callable[[Message], bool] | None = None
    """Lines another stage of the route worker may take instead of routing them (a WeChat or
    Telegram customer's bare 1-5 after the rating prompt): they go through the stream."""
    profiles: ProfileJobs | None = None
    bot_wake: Callable[[], None] | None = None
    """Tell this process's bot a line waits for its turn, as the route worker does; None where
    the bot runs in another process (`--role web`): it looks at due turns twice a second anyway."""
    reopen_window_s: float = 600.0
    """As the route worker's: a line this soon after a close reopens the conversation. A line that
    opens a conversation is resolved at ingest (ingest_direct.lua), so it needs the same window."""
    rules: DecisionSource | None = None
    """The route worker's rules: a new visitor's first line is decided with them before it is
    taken in (ingest_open.lua). None: such a line goes through the route worker too."""
    bot_first: bool = False
    """As the route worker's: the bot is on, so a decision may send a conversation to it first."""
    queued: Callable[[str, Message], Awaitable[None]] | None = None
    """As the route worker's: tell the bot a new conversation went straight to a queue (its
    off-hours notice)."""


class Ingestor:
    def __init__(self, store: Store, dedupe_ttl_s: int = DEDUPE_TTL_S, direct: Direct | None = None) -> None:
        self.store = store
        self.ttl = dedupe_ttl_s
        self.direct = direct
        """None: every line goes through the inbound stream."""
        self.accepted: Counter[str] = Counter()
        """New messages accepted by this process, by channel (GET /metrics)."""
        self.routed: Counter[tuple[str, str]] = Counter()
        """Follow-ups this process routed at ingest, by (pool, state): GET /metrics adds them to
        the route workers' counts."""

    async def ingest(self, msg: Message, new_sender: bool = False) -> Accepted:
        """Append once per (channel, account, native id); a retry gets the first message id.
        `new_sender`: the router knew no customer of this sender a moment ago (a web chat socket's
        snapshot found none), so the line is decided here and opens its conversation at once when
        that still holds.

        Raises StoreUnavailable when Redis does not take it in time: `ingest_timeout_s` for a
        webhook (the channel's answer deadline), `chat_ingest_timeout_s` for a web chat
        customer's message (no deadline; a refusal is a resend, which adds load at the peak). The
        append may still land after that; the sender's retry is then a duplicate, accepted once.
        """
        # One customer's lines, hence one conversation's, share a partition: the route worker
        # resolves the conversation from this same identity.
        ident = f"{msg.channel}:{msg.account}:{msg.sender_ref}"
        part = self.store.inbound_partition(ident)
        o = self.store.options
        limit = o.chat_ingest_timeout_s if msg.channel == WEBCHAT else o.ingest_timeout_s
        plain = Ingest(msg.dedupe_key(), msg.id, encode_message(msg), self.ttl, ident, part)
        direct = self._may_route(msg)
        opening = self._open_call(msg, plain) if direct and new_sender else None
        added: Added | Taken | None = await self._run(opening, limit) if opening is not None else None
        if added is None:  # not a new sender's line, or no longer one: taken in as usual
            call: Call[Added | Taken] = self._direct_call(msg, plain) if direct else plain
            added = await self._run(call, limit)
        # A duplicate waits too: its first WAIT may have failed.
        await self.store.replicated(self.store.keys.partition(part).inbound)
        if added.new:
            self.accepted[msg.channel] += 1
            if isinstance(added, Taken) and added.state:
                await self._routed(msg, added)
        return Accepted(message_id=added.id, duplicate=not added.new)

    async def _run(self, call: Call[_R], limit: float) -> _R:
        try:
            # The limit is kept by the coalescer, one timer per batch rather than one per message.
            return await self.store.batched.run(call, timeout_s=limit)
        except TimeoutError:
            raise StoreUnavailable("the message queue did not answer in time; try again") from None
        except (*REDIS_ERRORS, OSError) as exc:
            raise StoreUnavailable(f"the message queue is unavailable; try again ({type(exc).__name__})") from exc

    def _may_route(self, msg: Message) -> bool:
        """A plain text line (a file is fetched or claimed by the route worker, a card may
        change what the rules know), on one server (the script's keys span slots)."""
        d = self.direct
        return (d is not None and msg.channel in DIRECT_CHANNELS and msg.kind is Kind.TEXT
                and msg.media is None and msg.card is None and msg.native_media is None
                and not self.store.cluster and not (d.held_back is not None and d.held_back(msg)))

    async def _routed(self, msg: Message, taken: Taken) -> None:
        """What the route worker does after routing a line it read."""
        self.routed[(taken.pool, taken.state)] += 1
        d = self.direct
        assert d is not None
        if taken.state == "bot" and d.bot_wake is not None:
            d.bot_wake()
        profile = d.profiles is not None and msg.channel != WEBCHAT  # web chat has no channel profile
        notice = taken.opened and taken.state == "queued" and d.queued is not None
        if not (profile or notice):
            return  # most follow-ups: nothing more, not even the copy below
        msg = msgspec.structs.replace(msg, conversation_id=taken.cid, customer_id=taken.customer)
        if profile:
            assert d.profiles is not None
            d.profiles.schedule([msg])
        if notice:
            assert d.queued is not None
            try:  # the routing is done and stays done: a failed notice is logged, as the worker's
                await d.queued(taken.cid, msg)
            except Exception:
                log.exception("off-hours notice for %s failed", taken.cid)

    def _open_call(self, msg: Message, plain: Ingest) -> IngestOpen | None:
        """The call that takes a new sender's line in decided (None: the rules are not here, or
        they fail on it, and the route worker decides it and counts the failure)."""
        d = self.direct
        if d is None or d.rules is None:
            return None
        now = time.time()
        # Ids made here, not in the script: the agents' view and the transcript line carry them,
        # and an unknown sender's customer and conversation are new, so the script uses these.
        m = msgspec.structs.replace(msg, conversation_id=new_id("c"), customer_id=new_id("cu"))
        try:
            decision = d.rules.current.decide(rule_input(m, Resolved(False), now))
        except Exception:
            log.exception("deciding the first line of %s at ingest failed; the route worker decides it", plain.ident)
            return None
        assert m.conversation_id and m.customer_id
        public = msgspec.json.encode(m.public()).decode()
        return IngestOpen(plain.dedupe_key, msg.id, self.ttl, plain.ident, now, public, encode_message(m),
                          d.burst_window_s, APPLIED_TTL_S, d.transcript_max, msg.customer_name or "",
                          m.customer_id, m.conversation_id, d.reopen_window_s, msg.channel, msg.account,
                          msg.sender_ref, msg.customer_avatar or "", decision.pool, decision.priority,
                          tuple(decision.skills), decision.min_level, bool(decision.bot_first and d.bot_first),
                          decision_json(decision), plain.part)

    def _direct_call(self, msg: Message, plain: Ingest) -> Ingest | IngestDirect:
        assert self.direct is not None
        # The transcript line holds the conversation's and the customer's ids, which only the
        # script learns: the line is encoded with a mark for each, unguessable so a customer's
        # own text never matches, and cut at them.
        mark = f"@{random.getrandbits(64):016x}"
        line = encode_message(msgspec.structs.replace(msg, conversation_id=mark + "c", customer_id=mark + "u"))
        head, _, rest = line.decode().partition(mark + "c")
        middle, _, tail = rest.partition(mark + "u")
        if not tail:
            return plain
        # Now, not the line's own time, as the route worker routes with (a channel's timestamp
        # may be coarse, late or missing): the conversation's clocks and order run on the router's.
        return IngestDirect(plain.dedupe_key, msg.id, plain.payload, self.ttl, plain.ident, time.time(),
                            msgspec.json.encode(msg.public()).decode(), head, middle, tail,
                            self.direct.burst_window_s, APPLIED_TTL_S, self.direct.transcript_max,
                            msg.customer_name or "", new_id("cu"), new_id("c"), self.direct.reopen_window_s,
                            msg.channel, msg.account, msg.sender_ref, msg.customer_avatar or "", plain.part)
