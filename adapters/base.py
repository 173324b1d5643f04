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

from aiohttp import web

from kefu_common.errors import AuthError, ProtocolError
from router.models import Channel, Message, Reply

__all__ = ["Accepted", "Adapter", "Limits", "Reply", "Sink", "read_capped"]


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


class CustomerFeed(Protocol):
    """A channel whose customers hold a socket to this router (web chat). router/web serves the
    socket, its sign-in and its live frames; the adapter keeps what the customer was shown."""

    async def replay(self, chat: str, after: str) -> list[tuple[str, str]]:
        """(entry id, frame) of everything the customer was shown after entry `after`."""
        ...

    async def position(self, chat: str, message_id: str) -> str | None:
        """The feed entry of a message the page says it saw last, if the feed still has it."""
        ...

    def inbound(self, chat: str, client_id: str, text: str, name: str = "") -> Message:
        """A message the customer typed into the socket, keyed by (chat, client_id)."""
        ...


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

    def console_routes(self) -> Sequence[web.RouteDef]:
        """Endpoints the agent console calls for this channel (media by file id, a reply quota).
        router/web mounts them behind agent sign-in, so handlers here do no authentication; what
        the caller may see, each handler asks `console_access(request)` before it answers."""
        return ()

    def customer_feed(self) -> CustomerFeed | None:
        """This channel's customer socket, for a channel whose customers connect to us."""
        return None

    @abc.abstractmethod
    async def send(self, reply: Reply) -> None:
        """Deliver one reply, or raise Retryable/PermanentChannelError."""

    async def start(self) -> None:  # noqa: B027 -- optional hook, most channels need none
        """Open sessions and start pollers."""

    async def close(self) -> None:  # noqa: B027 -- optional hook
        """Close what start() opened."""


class ConsoleAccess(Protocol):
    """What the signed-in caller of a console route may see; router/web/access.py answers."""

    async def media(self, channel: Channel, account: str, media: str) -> bool:
        """Whether a conversation the caller may see holds this media id."""
        ...

    async def user(self, channel: Channel, account: str, user: str) -> bool:
        """Whether the caller may see a conversation with this channel user (openid, chat id)."""
        ...


CONSOLE_ACCESS: web.RequestKey[ConsoleAccess] = web.RequestKey("kefu_console_access")


def console_access(request: web.Request) -> ConsoleAccess:
    """The caller's access, set by the sign-in guard router/web puts on console routes."""
    try:
        return request[CONSOLE_ACCESS]
    except KeyError:  # mounted without the guard: see nothing rather than everything
        raise AuthError("not signed in") from None


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
