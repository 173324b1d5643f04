"""Ingest: the one door into the router. An adapter hands over a parsed message; once this
returns, the message is durable in the inbound stream and the channel may be told "accepted"."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kefu_common.errors import StoreUnavailable
from router.models import WEBCHAT, Message, encode_message
from router.store import Store
from router.store.calls.streams import Ingest
from router.store.client import REDIS_ERRORS

DEDUPE_TTL_S = 7 * 24 * 3600
"""How long a native message id is remembered: longer than any channel retries."""


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: str
    duplicate: bool


class Ingestor:
    def __init__(self, store: Store, dedupe_ttl_s: int = DEDUPE_TTL_S) -> None:
        self.store = store
        self.ttl = dedupe_ttl_s
        self.accepted: Counter[str] = Counter()
        """New messages accepted by this process, by channel (GET /metrics)."""

    async def ingest(self, msg: Message) -> Accepted:
        """Append once per (channel, account, native id); a retry gets the first message id.

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
        try:
            # The limit is kept by the coalescer, one timer per batch rather than one per message.
            added = await self.store.batched.run(Ingest(msg.dedupe_key(), msg.id, encode_message(msg), self.ttl,
                                                        ident, part), timeout_s=limit)
        except TimeoutError:
            raise StoreUnavailable("the message queue did not answer in time; try again") from None
        except (*REDIS_ERRORS, OSError) as exc:
            raise StoreUnavailable(f"the message queue is unavailable; try again ({type(exc).__name__})") from exc
        # A duplicate waits too: its first WAIT may have failed.
        await self.store.replicated(self.store.keys.partition(part).inbound)
        if added.new:
            self.accepted[msg.channel] += 1
        return Accepted(message_id=added.id, duplicate=not added.new)
