"""The values and narrow protocols of the adapter contract (adapters/base.py): what a channel
declares (`Limits`), is built with (`Deps`), hands over (`Sink`, `Accepted`), gives back
(`Fetched`, `ChannelProfile`), and what a console route may ask about its caller
(`console_access`). adapters.base re-exports each, so a channel imports them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from kefu_common.errors import AuthError
from router.media.base import MediaStore
from router.models import Channel, MediaRef, Message
from router.store import Store
from router.store.keys import Keys


@dataclass(frozen=True, slots=True)
class Limits:
    """What the channel allows; `send` and the agent socket keep within it."""

    max_text_chars: int = 4096
    """The longest text one message may carry, as the adapter's `measure` counts it."""
    max_parts: int = 10
    """The most messages one reply is split into; a longer reply can never be delivered, and the
    agent socket refuses it."""
    per_chat_per_s: float | None = None
    per_group_per_min: float | None = None
    overall_per_s: float | None = None



@dataclass(frozen=True, slots=True)
class ChannelProfile:
    """A channel user's profile as the channel gives it; empty strings for what it does not."""

    name: str = ""
    avatar: str = ""
    """An image URL the agent's browser may load."""
    photo: bytes = b""
    """The user's picture itself, for a channel whose image URLs carry a secret (Telegram's carry
    the bot token): the router keeps it in the media store and serves it from there instead."""
    union_id: str = ""
    """One id for the user across the shop's accounts of this channel (WeChat's unionid)."""

@dataclass(frozen=True, slots=True)
class Fetched:
    """A file downloaded from a channel; the media store decides what it is."""

    data: bytes
    name: str | None = None
    """The name the channel gave, if any."""
    duration: float | None = None
    """Seconds of a voice note or video, when the channel said."""


class Accepted(Protocol):
    @property
    def message_id(self) -> str: ...
    @property
    def duplicate(self) -> bool: ...


class Sink(Protocol):
    """Where adapters hand parsed messages: the router's ingest."""

    async def ingest(self, msg: Message, new_sender: bool = False) -> Accepted: ...


@dataclass(frozen=True, slots=True)
class Deps:
    """What a channel is built with: where messages go, the store for its own state, and the
    media store for the files its customers send and its agents attach (router/media/base.py)."""

    sink: Sink
    store: Store
    media: MediaStore | None = None
    """None only in tests that build an adapter without files; the runtime always gives one."""

    @property
    def keys(self) -> Keys:
        return self.store.keys


class CustomerFeed(Protocol):
    """A channel whose customers hold a socket to this router (web chat). router/web serves the
    socket, its sign-in and its live frames; the adapter keeps what the customer was shown."""

    async def replay(self, chat: str, after: str) -> list[tuple[str, str]]:
        """(entry id, frame) of everything the customer was shown after entry `after`."""
        ...

    async def since(self, chat: str, last_seen: str) -> tuple[str, list[tuple[str, str]]]:
        """What a (re)connecting page is shown, in one round trip: the feed entry of the message it
        says it saw last ('' or one the feed no longer holds: the feed's start) and (entry id,
        frame) of everything after it."""
        ...

    def inbound(self, chat: str, client_id: str, text: str, name: str = "", media: MediaRef | None = None) -> Message:
        """A message the customer typed into the socket, keyed by (chat, client_id), with the
        file they uploaded (already checked to be theirs) when it carries one."""
        ...


class ConsoleAccess(Protocol):
    """What the signed-in caller of a console route may see; router/web/access.py answers."""

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
