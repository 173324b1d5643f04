"""The adapter contract: what every channel must do, and nothing else.

An adapter translates. Inbound, it turns a channel's native request into normalised `Message`s and
hands them to the router's `Sink`; outbound, it turns a `Reply` into the channel's native call.
It never routes, stores conversation state, or decides anything.

Every channel implements:

verify
    Check that a request really comes from the channel (signature, secret token, session) before
    reading it further; a failure raises `kefu_common.errors.AuthError` and has no other effect.
parse
    Native payload to `Message`s. Unknown native types become `Kind.UNKNOWN` with the raw payload
    kept: nothing a customer sent is dropped. Hostile input raises `ProtocolError` (a 4xx).
dedupe key
    `Message.native_id` must be the channel's own stable id for the message, so that (channel,
    account, native_id) identifies a retried delivery. The router accepts it once.
acknowledge fast
    Answer the channel only after `Sink.ingest` returned (the message is durable), and do no slow
    work before answering.
send
    Deliver one `Reply`. Raise `RetryableChannelError(reason, retry_after)` when a later try may
    work, `PermanentChannelError(reason)` when it cannot; `reason` is read by the agent. Never
    retry inside `send`: the outbox owns retries, backoff and dead letters.
limits
    `limits` says how long a text may be and how fast the channel may be called; `send` splits and
    paces accordingly.
lifecycle
    `start()` and `close()` open and close sessions, pollers and timers.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import msgspec
from aiohttp import web

from router.models import Channel, Kind, Message, Sender


class Reply(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One outbound message, as queued in the outbox."""

    id: str
    conversation_id: str
    customer_id: str
    channel: Channel
    account: str
    chat: str
    """The channel's address of the customer (openid, chat id, web visitor)."""
    text: str
    author: str
    """The agent id, or 'bot' / 'system'."""
    sender: Sender = Sender.AGENT
    client_msg_id: str | None = None
    kind: Kind = Kind.TEXT
    ts: float = 0.0

    def public(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "from": self.sender.value, "text": self.text, "ts": self.ts}
        if self.sender is Sender.AGENT:
            out["agent_id"] = self.author
        return out


@dataclass(frozen=True, slots=True)
class Limits:
    """What the channel allows; the outbox and `send` keep within it."""

    max_text_chars: int = 4096
    per_chat_per_s: float | None = None
    overall_per_s: float | None = None


class Accepted(Protocol):
    @property
    def message_id(self) -> str: ...
    @property
    def duplicate(self) -> bool: ...


class Sink(Protocol):
    """Where adapters hand parsed messages: the router's ingest."""

    async def ingest(self, msg: Message) -> Accepted: ...


class Adapter(abc.ABC):
    """Base of every channel adapter; see the module docstring for the contract."""

    channel: ClassVar[Channel]
    limits: ClassVar[Limits] = Limits()

    def __init__(self, account: str, sink: Sink) -> None:
        self.account = account
        self.sink = sink

    @abc.abstractmethod
    def routes(self) -> Sequence[web.RouteDef]:
        """The HTTP endpoints the channel calls (webhooks) or customers use (web chat)."""

    @abc.abstractmethod
    async def send(self, reply: Reply) -> None:
        """Deliver one reply, or raise Retryable/PermanentChannelError."""

    async def start(self) -> None:  # noqa: B027 -- optional hook, most channels need none
        """Open sessions and start pollers."""

    async def close(self) -> None:  # noqa: B027 -- optional hook
        """Close what start() opened."""
