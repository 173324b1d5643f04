"""The outbox: replies are appended to the outbound stream, and senders deliver them through the
customer's channel with retries. Order within a conversation is kept across processes: each reply
carries a sequence number, and a sender sends number n only after n-1 is finished (sent or dead).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from adapters.base import Adapter
from kefu_common.errors import ChannelError, PermanentChannelError, RetryableChannelError
from router.config.settings import OutboxSettings
from router.models import WEBCHAT, Channel, Direction, Message, Reply
from router.models import Sender as Author  # this module's Sender is the delivery loop
from router.pipeline.ingest import DEDUPE_TTL_S
from router.pipeline.lanes import Earlier, LaneSender
from router.pipeline.streams import DeadLetters, Entry, failure
from router.pipeline.transcript import Transcript
from router.store import Store
from router.store.calls.agents import Emit
from router.store.calls.streams import OutboxEnqueue
from router.store.client import REDIS_ERRORS
from router.store.keys import OUTBOUND_GROUP
from router.store.streams import Finished

log = logging.getLogger("kefu.outbox")

_reply_decoder = msgspec.json.Decoder(Reply)


class Outbox:
    def __init__(self, store: Store, dedupe_ttl_s: int = DEDUPE_TTL_S) -> None:
        self.store = store
        self.dedupe_ttl_s = dedupe_ttl_s

    async def enqueue(self, reply: Reply) -> tuple[str, bool]:
        """Queue a reply once per (author, client_msg_id); returns (message id, is_new)."""
        part = self.store.outbound_partition(reply.conversation_id)
        added = await self.store.run(OutboxEnqueue(reply.author, reply.client_msg_id or reply.id,
                                                   reply.conversation_id, reply.id, msgspec.json.encode(reply),
                                                   self.dedupe_ttl_s, part))
        await self.store.replicated(self.store.keys.partition(part).outbound)
        return added.id, added.new

    async def tell(self, cid: str, key: str, text: str, *, webchat: bool = True) -> None:
        """A system text to the conversation's customer on their own channel, once per `key` (its
        client_msg_id); skipped on web chat when the page says it another way (`webchat=False`)."""
        conv = await self.store.conversations.get(cid)
        channel, account, chat, customer = (conv.channel, conv.account, conv.chat, conv.customer_id) if conv else (
            None, None, None, None)
        if not (channel and chat) or (channel == WEBCHAT and not webchat):
            return
        await self.enqueue(Reply(
            id=f"m_sys_{key.replace(':', '_')}", conversation_id=cid, customer_id=customer or "",
            channel=Channel(channel), account=account or "", chat=chat, text=text, author="system",
            sender=Author.SYSTEM, client_msg_id=key, ts=time.time(),
        ))


def _code(exc: ChannelError) -> str:
    """A short label for an API error: its code when the adapter gave one, else its kind."""
    code = getattr(exc, "code", None)
    if code is not None:
        return str(code)
    return "permanent" if isinstance(exc, PermanentChannelError) else "retryable"


def _wait(settings: OutboxSettings) -> Callable[[RetryCallState], float]:
    """Exponential backoff with full jitter, but never sooner than the channel's Retry-After."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(settings.max_delay_s, settings.base_delay_s * 2 ** (state.attempt_number - 1))
        delay = random.uniform(0, backoff)
        if isinstance(exc, RetryableChannelError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return delay

    return wait


class Sender(LaneSender[tuple[Entry, Reply]]):
    """Consumes one partition of the outbox and delivers each reply through its channel's
    adapter; every process runs one per partition. A conversation's replies are all in one."""

    name = "sender"

    def __init__(self, store: Store, transcript: Transcript, adapters: Mapping[tuple[str, str], Adapter],
                 settings: OutboxSettings, claim_idle_ms: int = 30_000, max_tries: int = 3, part: int = 0) -> None:
        k = store.keys.partition(part)
        super().__init__(store, part, k.outbound, OUTBOUND_GROUP, claim_idle_ms,
                         DeadLetters(k.outbound_dead_letters, k.outbound_tries, max_tries), settings.concurrency)
        self.transcript, self.adapters, self.settings = transcript, adapters, settings
        self.max_tries = max_tries
        self.sent = 0
        self.sent_by_channel: Counter[str] = Counter()
        """Replies this process's sender got a channel to take, by channel (GET /metrics)."""
        self.errors: Counter[tuple[str, str]] = Counter()
        """Channel API errors met by this process, by (channel, code)."""

    async def dispatch(self, entries: list[Entry]) -> None:
        """Hand entries to per-conversation lanes and return at once: a reply waiting out a
        channel's Retry-After holds up its own conversation only, never the next read."""
        for entry in entries:
            eid, fields = entry
            try:
                reply = _reply_decoder.decode(fields["m"])
            except (KeyError, msgspec.DecodeError, msgspec.ValidationError) as exc:
                await self.group.failed(entry, f"undecodable: {failure(exc)}", hopeless=True)
                continue
            await self._lanes.add(reply.conversation_id, int(fields.get("seq", 0)), eid, (entry, reply))

    async def _handle(self, item: tuple[Entry, Reply], seq: int, earlier: Earlier) -> bool:
        """Deliver once its turn comes, in one of the sending slots; False when an earlier reply
        of the conversation joined the lane while this one waited."""
        entry, reply = item
        if not await self._wait_turn(reply.conversation_id, seq, earlier):
            return False
        async with self._lanes.sending:
            await self._send(entry, reply, seq)
        return True

    async def _send(self, entry: Entry, reply: Reply, seq: int) -> None:
        """A reply whose handling raises (a bug, not a channel's refusal: `deliver` handles those)
        is tried again here, in its lane, so the conversation's later replies keep waiting behind
        it. At the bound it goes to the dead letters, the next reply may go, and its author hears
        it failed."""
        for attempt in range(self.max_tries):
            try:
                await self.deliver(entry[0], reply, seq)
                return
            except REDIS_ERRORS as exc:
                log.warning("reply %s: Redis error, left pending for XAUTOCLAIM: %s", reply.id, exc)
                return
            except Exception as exc:
                log.exception("reply %s could not be handled", reply.id)
                reason = failure(exc)
            try:
                if await self.group.failed(entry, reason, finished=_finished(reply, seq)):
                    await self._report(reply, "failed", "could not be sent; kept for an admin")
                    return
            except Exception:  # a Redis error, or a reply too broken even to report
                log.exception("reply %s: failed try not recorded; left for XAUTOCLAIM", reply.id)
                return
            await asyncio.sleep(min(self.settings.max_delay_s, self.settings.base_delay_s * 2**attempt))

    async def _wait_turn(self, cid: str, seq: int, earlier: Earlier) -> bool:
        """Until reply seq-1 is finished (True), or an earlier reply joins this lane (False).
        Bounded, so a lost entry can't stall the conversation forever (XAUTOCLAIM brings a dead
        sender's entry back long before)."""
        deadline = time.monotonic() + 2 * self.claim_idle_ms / 1000 + 5
        delay = 0.01
        while seq > 1 and time.monotonic() < deadline:
            if await self.streams.replies_finished(cid) >= seq - 1:
                return True
            if earlier():
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        return True

    async def deliver(self, eid: str, reply: Reply, seq: int) -> None:
        msg = Message(
            id=reply.id, channel=reply.channel, account=reply.account, native_id=reply.id,
            sender_ref=reply.chat, direction=Direction.OUT, sender=reply.sender,
            text=reply.text or (reply.card.summary() if reply.card else ""),
            kind=reply.kind, media=reply.media, card=reply.card, ts=reply.ts, conversation_id=reply.conversation_id,
            customer_id=reply.customer_id,
            agent_id=reply.author if reply.sender.value == "agent" else None,
        )
        # Whether it went out before a crash rides with the transcript's append: one round trip.
        _, (sent,) = await self.transcript.append_then(msg, lambda pipe: self.streams.queue_was_sent(pipe, reply.id))
        if sent:
            await self._finish(eid, reply, seq)  # sent before a crash; do not send twice
            return
        adapter = self.adapters.get((reply.channel, reply.account))
        try:
            if adapter is None:
                raise PermanentChannelError(f"no {reply.channel} account {reply.account!r} is configured")
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.settings.max_attempts),
                wait=_wait(self.settings),
                retry=retry_if_exception_type(RetryableChannelError),
                reraise=True,
            ):
                with attempt:
                    try:
                        await adapter.send(reply)
                    except ChannelError as exc:
                        self.errors[(reply.channel, _code(exc))] += 1
                        raise
        except ChannelError as exc:
            await self.streams.dead_letter({
                "m": msgspec.json.encode(reply).decode(), "reason": exc.reason,
                "permanent": "1" if isinstance(exc, PermanentChannelError) else "0",
            }, maxlen=100_000)
            log.warning("reply %s failed: %s", reply.id, exc.reason)
            await self._report(reply, "failed", exc.reason)
            await self._finish(eid, reply, seq)
            return
        await self._sent(eid, reply, seq)
        self.sent += 1
        self.sent_by_channel[reply.channel] += 1

    async def _sent(self, eid: str, reply: Reply, seq: int) -> None:
        """A reply went out: marked sent, its status in the transcript and to its agent, and its
        entry acked, in one round trip where they were four in turn (every reply at the peak).
        On one server the pipeline runs in order, so the mark lands before the ack; on a Cluster
        both are in the outbox's slot, so they do too."""
        status = json.dumps({"status": "sent"})

        def then(pipe: Any) -> None:
            self.streams.queue_mark_sent(pipe, reply.id, DEDUPE_TTL_S)
            self.store.transcripts.queue_delivery(pipe, reply.conversation_id, reply.id, status)
            self.group.queue_ack(pipe, [eid], _finished(reply, seq))

        results, extra = await self.store.run_many_then(self._told(reply, "sent", None), then)
        for r in (*results, *extra):
            if isinstance(r, Exception):
                raise r

    async def _report(self, reply: Reply, status: str, reason: str | None) -> None:
        """The reply's delivery status in the transcript, and to its agent's consoles."""
        await self.transcript.set_delivery(reply.conversation_id, reply.id, status, reason)
        for call in self._told(reply, status, reason):
            await self.store.run(call)

    @staticmethod
    def _told(reply: Reply, status: str, reason: str | None) -> list[Emit]:
        """The `delivery` frame to the reply's agent (none for a system or bot reply)."""
        if reply.sender.value != "agent":
            return []
        frame: dict[str, Any] = {"type": "delivery", "message_id": reply.id,
                                 "conversation_id": reply.conversation_id, "status": status}
        if reason:
            frame["reason"] = reason
        return [Emit(reply.author, json.dumps(frame, ensure_ascii=False))]

    async def _finish(self, eid: str, reply: Reply, seq: int) -> None:
        await self.group.ack([eid], finished=_finished(reply, seq))


def _finished(reply: Reply, seq: int) -> Finished | None:
    """"Reply number `seq` is finished", so the conversation's next one may go (none for a reply
    queued without a number)."""
    return (reply.conversation_id, seq) if seq else None
