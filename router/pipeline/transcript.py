"""A conversation's transcript: every message once, in order, with its delivery status and the
files fetched for customers' messages since (router/pipeline/media_fetch.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from router.hooks import emit as hooks
from router.models import Message, Sender, decode_message, encode_message
from router.store import Store
from router.store.calls import Call
from router.store.calls.streams import AppendOnce
from router.store.transcripts import with_attachments
from routing_rules.intents import detect_language, normalize


def public_views(raw: list[Message], status: dict[str, str], records: dict[str, str]) -> list[dict[str, Any]]:
    """Messages as agents see them: with their delivery status (message id -> JSON) when they have
    one, and for a customer's file not fetched (yet), `media_status` pending or failed with
    `media_error` (`records`: message id -> attachment JSON)."""
    out = []
    for m in with_attachments(raw, records):
        view = m.public()
        if m.id in status:
            view["delivery"] = json.loads(status[m.id])
        if m.native_media and m.media is None:
            error = json.loads(records[m.id]).get("error") if m.id in records else None
            view["media_status"] = "failed" if error else "pending"
            if error:
                view["media_error"] = error
        out.append(view)
    return out


LANGUAGE_TTL_S = 60.0
"""How long a conversation's customer language is remembered: queue texts and promises word every
text in it, and reading the latest messages each time was a read per text at the peak; a customer
who switches language is followed within this long."""
LANGUAGES_KEPT = 20_000


class Transcript:
    def __init__(self, store: Store, max_messages: int = 0) -> None:
        self.store = store
        self.keys = store.keys
        self.max_messages = max_messages
        self._languages: dict[str, tuple[str, float]] = {}
        """Conversation id -> (language, when it was read), oldest first."""

    def append_call(self, msg: Message) -> AppendOnce:
        """The call that appends `msg` to its conversation's transcript, once by message id, and
        says so on keys.transcript_channel (for supervisors following it: router/web/watch_ws.py).
        On a Cluster's shard channels the channel is in another slot: `announce` says it after
        the script."""
        assert msg.conversation_id
        cid = msg.conversation_id
        channel = "" if self.store.slotted_channels else self.keys.transcript_channel
        return AppendOnce(self.keys.transcript(cid), self.keys.transcript_ids(cid), msg.id, self.line(msg),
                          self.max_messages, channel, cid, bare=True)

    @staticmethod
    def line(msg: Message) -> bytes:
        """`msg` as its transcript entry holds it (what append_call appends; route.lua appends
        the same on one server)."""
        return encode_message(msg)

    async def announce(self, lines: list[tuple[str, str]]) -> None:
        """(conversation id, entry id) of lines appended with append_call, said on a Cluster's
        shard channels, where the script could not; a no-op elsewhere, where it did."""
        if self.store.slotted_channels:
            for cid, entry in lines:
                await self.store.publish(self.keys.transcript_channel, f"{cid}\n{entry}\n")

    async def append(self, msg: Message) -> bool:
        """Append once, and its webhook event (hooks.message_created) in the same round trip;
        True the first time. Raises when a write failed."""
        return (await self.append_then(msg, None))[0]

    async def append_then(self, msg: Message, then: Callable[[Any], None] | None) -> tuple[bool, list[Any]]:
        """As `append`, with what `then(pipe)` queues after it in the same round trip: (True the
        first time, the replies to what `then` queued)."""
        calls: list[Call[Any]] = [self.append_call(msg)]
        # Also when not new: the step may be a retry after a crash before the event was written.
        event = hooks.message_created_call(msg)
        if event is not None:
            calls.append(event)
        results, extra = await self.store.run_many_then(calls, then)
        for r in (*results, *extra):
            if isinstance(r, Exception):
                raise r
        added = results[0]
        if added.new:
            await self.announce([(msg.conversation_id or "", added.id)])
        return added.new, extra

    async def messages(self, cid: str, limit: int = 500) -> list[Message]:
        """The latest messages, each with the file fetched for it when there is one."""
        msgs = [decode_message(m) for m in await self.store.transcripts.latest(cid, limit)]
        if not any(m.native_media for m in msgs):
            return msgs
        return with_attachments(msgs, await self.store.transcripts.attachments(cid))

    async def customer_language(self, cid: str) -> str:
        """'en' or 'zh': the customer's, from their latest message; Chinese unless it reads as
        English, since most customers write Chinese. Remembered for LANGUAGE_TTL_S."""
        now = time.monotonic()
        known = self._languages.get(cid)
        if known is not None and now - known[1] < LANGUAGE_TTL_S:
            return known[0]
        language = "zh"
        for m in reversed(await self.messages(cid, limit=5)):
            if m.sender is Sender.CUSTOMER and m.text:
                language = "en" if detect_language(normalize(m.text)) == "en" else "zh"
                break
        self._languages.pop(cid, None)  # re-inserted last: the oldest go first
        self._languages[cid] = (language, now)
        if len(self._languages) > LANGUAGES_KEPT:
            del self._languages[next(iter(self._languages))]
        return language

    async def public(self, cid: str, limit: int = 500) -> list[dict[str, Any]]:
        """Messages as agents see them, each with its delivery status when it has one, and for a
        customer's file not fetched (yet), `media_status` pending or failed with `media_error`."""
        raw = [decode_message(m) for m in await self.store.transcripts.latest(cid, limit)]
        records = await self.store.transcripts.attachments(cid) if any(m.native_media for m in raw) else {}
        return public_views(raw, await self.store.transcripts.deliveries(cid), records)

    async def set_delivery(self, cid: str, mid: str, status: str, reason: str | None = None) -> None:
        value: dict[str, str] = {"status": status}
        if reason:
            value["reason"] = reason
        await self.store.transcripts.set_delivery(cid, mid, json.dumps(value))

