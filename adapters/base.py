"""The adapter contract: what every channel must do, and nothing else.

An adapter translates. Inbound, it turns a channel's native request into normalised `Message`s and
hands them to the router's `Sink`; outbound, it turns a `Reply` into the channel's native call.
It never routes, stores conversation state, or decides anything.

A channel is one class, registered by name in adapters/registry.py. It declares:

channel, settings_type, many
    Its name, the settings type its `channels.<name>` config is parsed with, and whether the
    config lists several accounts (a list) or holds one (a mapping).
capabilities
    What it can do (live frames, media, a reply quota, split replies), so the router and the web
    layer ask instead of testing channel names.
validate(settings)
    What the settings type cannot say (a key's length, a mode that needs a secret), as
    positioned problems: `kefu check` and `kefu serve` refuse the same configs.
from_settings(settings, deps)
    The one constructor. `Deps` is narrow: the sink and the store, never the whole runtime.

Inbound, a webhook channel (`WebhookAdapter`) fills in the steps of one `@final` method,
`handle`: verify -> parse -> durable ingest -> ack (with `precheck` on the headers before the body
is read, and `admit`, a check that leaves a trace, last before the ingest).

verify
    Check that a request really comes from the channel (signature, secret token) before reading
    it further; a failure raises `kefu_common.errors.AuthError` and has no other effect.
parse
    Native payload to `Message`s. Unknown native types become `Kind.UNKNOWN` with the raw payload
    kept: nothing a customer sent is dropped. Hostile input raises `ProtocolError` (a 4xx).
dedupe key
    `Message.native_id` must be the channel's own stable id for the message, so that (channel,
    account, native_id) identifies a retried delivery. The router accepts it once.
acknowledge fast
    `ack` answers the channel only after `Sink.ingest` returned (the message is durable); no slow
    work happens before it.

Outbound, `send` (also `@final`) splits a reply within `limits` and hands each part, in order, to
the channel's `send_part`; a channel with `capabilities.media_messages` gets the reply's file
after them, as one more part, through `send_media` (with its bytes from the media store), and a
page card goes last through `send_card` (`capabilities.page_cards`). `check_parts`
sees the number of parts first, so a channel that counts messages (WeChat) refuses a reply that
cannot go whole before any of it goes. A retry of the reply resumes after the parts the channel
took. `send_part` and `send_media` raise `RetryableChannelError(reason, retry_after)` when a later
try may work, `PermanentChannelError(reason)` when it cannot; `reason` is read by the agent. They
never retry themselves: the outbox owns retries, backoff and dead letters.

media
    `fetch_media(reference)` downloads a file a customer sent, by the channel's own reference
    (`Message.native_media`), raising the same two errors; router/pipeline/media_fetch.py calls it
    off the webhook path and keeps the bytes in the media store.

lifecycle
    `start()` and `close()` open and close sessions, pollers and timers.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, ClassVar, final

from aiohttp import web

from adapters import registry
from adapters.registry import Capabilities, Problem
from adapters.split import split_text
from adapters.values import (
    CONSOLE_ACCESS,
    Accepted,
    ChannelProfile,
    ConsoleAccess,
    CustomerFeed,
    Deps,
    Fetched,
    Limits,
    Sink,
    console_access,
)
from kefu_common.errors import PermanentChannelError, ProtocolError
from router.models import Channel, MediaRef, Message, PageCard, Reply
from router.pipeline.ingest import DEDUPE_TTL_S

# The value types and protocols live in adapters/values.py; channels import them from here.
__all__ = ["CONSOLE_ACCESS", "Accepted", "Adapter", "Capabilities", "ChannelProfile", "ConsoleAccess", "CustomerFeed",
           "Deps", "Fetched", "Limits", "Problem", "Reply", "Sink", "WebhookAdapter", "adapter_class",
           "console_access", "read_capped"]


class Adapter(abc.ABC):
    """Base of every channel adapter; see the module docstring for the contract."""

    channel: ClassVar[Channel]
    settings_type: ClassVar[type[Any]]
    many: ClassVar[bool] = True
    capabilities: ClassVar[Capabilities] = Capabilities()
    limits: ClassVar[Limits] = Limits()

    def __init__(self, account: str, deps: Deps) -> None:
        self.account = account
        self.deps = deps
        self.sink = deps.sink

    # -- the channel class: config and construction -------------------------------------------
    @classmethod
    @abc.abstractmethod
    def from_settings(cls, settings: Any, deps: Deps) -> Adapter:
        """The adapter of one configured account."""

    @classmethod
    def default_settings(cls) -> Any:
        """The settings of the one account used when the config names none; None: no account."""
        return None

    @classmethod
    def account_of(cls, settings: Any) -> str:
        return str(settings.account)

    @classmethod
    def validate(cls, settings: Any) -> list[Problem]:
        """Problems the settings type cannot express, each at the offending key."""
        return []

    @classmethod
    def secrets(cls, settings: Any) -> list[str]:
        """The secrets in the settings (tokens, keys), which the logs never show."""
        return []

    # -- what the web layer mounts ------------------------------------------------------------
    def routes(self) -> Sequence[web.RouteDef]:
        """The HTTP endpoints the channel calls (webhooks)."""
        return ()

    def console_routes(self) -> Sequence[web.RouteDef]:
        """Endpoints the agent console calls for this channel (a reply quota; files are read
        through the media store's GET /api/v1/media/{id}).
        router/web mounts them behind agent sign-in, so handlers here do no authentication; what
        the caller may see, each handler asks `console_access(request)` before it answers."""
        return ()

    def customer_feed(self) -> CustomerFeed | None:
        """This channel's customer socket, for a channel whose customers connect to us."""
        return None

    # -- outbound -----------------------------------------------------------------------------
    def measure(self, text: str) -> int:
        """Length as the channel counts it against `limits.max_text_chars`."""
        return len(text)

    def split(self, text: str) -> list[str]:
        """The messages a reply goes out as: one when it fits or the channel does not split."""
        if not self.capabilities.split_replies or self.measure(text) <= self.limits.max_text_chars:
            return [text]
        return split_text(text, self.limits.max_text_chars, self.measure)

    def undeliverable(self, text: str) -> str | None:
        """Why this channel can never deliver `text`, or None when it can."""
        size = self.measure(text)
        if not self.capabilities.split_replies:
            if size > self.limits.max_text_chars:
                return (f"too long for {self.channel}: {size} characters, "
                        f"at most {self.limits.max_text_chars}")
            return None
        parts = len(self.split(text))
        if parts > self.limits.max_parts:
            return (f"too long for {self.channel}: it would take {parts} messages, "
                    f"at most {self.limits.max_parts} ({self.limits.max_text_chars} characters each)")
        return None

    def undeliverable_file(self, media: MediaRef) -> str | None:
        """Why this channel can never send this file to a customer, or None when it can."""
        return None if self.capabilities.media else f"{self.channel} cannot carry files"

    @final
    async def send(self, reply: Reply) -> None:
        """Deliver one reply, in parts within the limit and in order, its file last. A retry
        resumes after the parts the channel already took, so a customer never gets a part twice."""
        with_file = reply.media is not None and self.capabilities.media_messages
        with_card = reply.card is not None
        parts = self.split(reply.text) if reply.text or not (with_file or with_card) else []
        total = len(parts) + (1 if with_file else 0) + (1 if with_card else 0)
        if total == 1 and parts:
            await self.send_part(reply, parts[0], 0)
            return
        records = self.deps.store.channels
        done = await records.parts_sent(reply.id)
        if done == 0:
            await self.check_parts(reply, total)
        for i in range(done, total):
            if i < len(parts):
                await self.send_part(reply, parts[i], i)
            elif with_file and i == len(parts):
                assert reply.media is not None
                await self.send_media(reply, reply.media, i)
            else:
                assert reply.card is not None
                await self.send_card(reply, reply.card, i)
            await records.mark_parts_sent(reply.id, i + 1, DEDUPE_TTL_S)

    async def check_parts(self, reply: Reply, parts: int) -> None:  # noqa: B027 -- optional hook
        """Refuse (PermanentChannelError) a reply of `parts` messages the channel cannot take
        whole, before its first part goes."""

    @abc.abstractmethod
    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        """Deliver one message of the reply (`text`, part number `index`), or raise
        Retryable/PermanentChannelError."""

    async def send_media(self, reply: Reply, media: MediaRef, index: int) -> None:
        """Deliver the reply's file as a message of its own (channels with `media_messages`)."""
        raise PermanentChannelError(f"{self.channel} cannot send files")

    async def send_card(self, reply: Reply, card: PageCard, index: int) -> None:
        """Deliver a mini program page card as a message of its own (channels with `page_cards`)."""
        raise PermanentChannelError(f"{self.channel} cannot send page cards")

    async def media_bytes(self, media: MediaRef) -> bytes:
        """The bytes of a file to send, from the media store."""
        if self.deps.media is None:
            raise PermanentChannelError("no media store is configured")
        try:
            return (await self.deps.media.get(media.id))[1]
        except ProtocolError:
            raise PermanentChannelError("the file is no longer in the media store") from None

    # -- media in -----------------------------------------------------------------------------
    async def fetch_media(self, reference: str) -> Fetched:
        """Download a file a customer sent, by the channel's reference (`Message.native_media`)."""
        raise PermanentChannelError(f"{self.channel} has no files to fetch")

    # -- who the customer is -------------------------------------------------------------------
    async def profile(self, user: str) -> ChannelProfile | None:
        """What the channel says about one of its users beyond their messages (a WeChat user's
        nickname, avatar and unionid); None when it says nothing. Called after routing, never
        before the ack; a failure only means the customer keeps the name they had."""
        return None

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:  # noqa: B027 -- optional hook, most channels need none
        """Open sessions and start pollers."""

    async def close(self) -> None:  # noqa: B027 -- optional hook
        """Close what start() opened."""


class WebhookAdapter(Adapter):
    """A channel that posts its customers' messages to us: verify -> parse -> ingest -> ack."""

    max_body_bytes: ClassVar[int] = 1024 * 1024

    @final
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The one way a webhook is taken in; the channel fills in the steps."""
        self.precheck(request)
        body = await read_capped(request, self.max_body_bytes)
        payload = self.verify(request, body)
        messages = self.parse(payload)
        await self.admit(request, body)
        accepted = await self.take_in(messages)
        return self.ack(request, messages, accepted)

    @final
    async def take_in(self, messages: Sequence[Message]) -> list[Accepted]:
        """Durable ingest, then the channel's fast follow-ups; also the way a poller hands in."""
        accepted = [await self.sink.ingest(m) for m in messages]
        await self.ingested(messages, accepted)
        return accepted

    def precheck(self, request: web.Request) -> None:
        """Refusals that need only the headers (a secret token, the content type), before the
        body is read."""

    @abc.abstractmethod
    def verify(self, request: web.Request, body: bytes) -> bytes:
        """Check the request comes from the channel; the payload to parse (decrypted if need be)."""

    @abc.abstractmethod
    def parse(self, payload: bytes) -> Sequence[Message]:
        """The messages in a verified payload; none for updates that carry no message."""

    async def admit(self, request: web.Request, body: bytes) -> None:
        """The last check, once everything else passed: one that leaves a trace (a replay guard
        remembering a nonce), so a refused request leaves none."""

    async def ingested(self, messages: Sequence[Message], accepted: Sequence[Accepted]) -> None:
        """After the messages are durable, before the ack: fast channel bookkeeping only."""

    def ack(self, request: web.Request, messages: Sequence[Message],
            accepted: Sequence[Accepted]) -> web.StreamResponse:
        return web.Response(status=200)


def adapter_class(channel: str) -> type[Adapter] | None:
    """The adapter class registered under `channel`."""
    cls = registry.get(channel)
    return cls if isinstance(cls, type) and issubclass(cls, Adapter) else None


async def read_capped(request: web.Request, cap: int) -> bytes:
    """The body, refusing (413) more than `cap` bytes without reading them all."""
    if request.content_length is not None and request.content_length > cap:
        raise ProtocolError("too_large", f"body over {cap} bytes", 413)
    data = bytearray()
    while chunk := await request.content.read(64 * 1024):
        data += chunk
        if len(data) > cap:
            raise ProtocolError("too_large", f"body over {cap} bytes", 413)
    return bytes(data)
