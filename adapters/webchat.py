"""The shop's own web chat: each visitor's feed of the frames they were shown.

The native protocol is ours (docs/protocol.md). `send` appends a reply to the visitor's feed
stream once by message id and publishes it; a reconnecting page gets everything after the last
message it saw, each frame once. The socket itself, its sessions and its live frames are the web
layer's (router/web/chat_socket.py), reached through `CustomerFeed`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, ClassVar

from aiohttp import web

from adapters.base import Adapter, Capabilities, CustomerFeed, Deps, Limits
from adapters.registry import register
from router.config.settings import WebchatSettings
from router.models import WEBCHAT, Channel, Kind, MediaRef, Message, Reply, new_id
from router.store.calls.channels import FeedSince
from router.store.calls.streams import AppendOnce

ACCOUNT = "web"
FEED_MAXLEN = 1000


@register
class WebchatAdapter(Adapter):
    channel: ClassVar[Channel] = WEBCHAT
    settings_type: ClassVar[type[Any]] = WebchatSettings
    many: ClassVar[bool] = False
    capabilities: ClassVar[Capabilities] = Capabilities(live_frames=True, split_replies=False, media=True)
    limits: ClassVar[Limits] = Limits(max_text_chars=8000, max_parts=1)

    def __init__(self, deps: Deps) -> None:
        super().__init__(ACCOUNT, deps)
        self.store = deps.store
        self.keys = deps.keys

    @classmethod
    def from_settings(cls, settings: Any, deps: Deps) -> WebchatAdapter:
        return cls(deps)

    @classmethod
    def default_settings(cls) -> WebchatSettings:
        return WebchatSettings()  # on unless the config turns it off

    @classmethod
    def account_of(cls, settings: Any) -> str:
        return ACCOUNT

    def routes(self) -> Sequence[web.RouteDef]:
        return ()  # the visitor's socket is served by router/web through customer_feed()

    def customer_feed(self) -> CustomerFeed:
        return self

    async def send_part(self, reply: Reply, text: str, index: int) -> None:
        """Deliver to the visitor's feed: stored once by message id, published to open pages."""
        frame = json.dumps({"type": "message", "conversation_id": reply.conversation_id,
                            "message": reply.public()}, ensure_ascii=False)
        await self.store.append_published(AppendOnce(
            self.keys.feed(reply.chat), self.keys.feed_ids(reply.chat), reply.id, frame, FEED_MAXLEN,
            self.keys.customer_channel, f"{self.channel}:{reply.chat}"))

    async def replay(self, chat: str, after: str) -> list[tuple[str, str]]:
        return await self.store.feeds.after(chat, after, FEED_MAXLEN)

    async def since(self, chat: str, last_seen: str) -> tuple[str, list[tuple[str, str]]]:
        return await self.store.run(FeedSince(chat, last_seen, FEED_MAXLEN))

    def inbound(self, chat: str, client_id: str, text: str, name: str = "", media: MediaRef | None = None) -> Message:
        return customer_message(chat, client_id, text, name, media)


def customer_message(visitor: str, client_id: str, text: str, name: str = "",
                     media: MediaRef | None = None) -> Message:
    """A visitor's message; (visitor, client_msg_id) is its idempotency key, so a page that
    resends after a reconnect is accepted once."""
    raw: dict[str, object] = {"text": text, "client_msg_id": client_id}
    if media is not None:
        raw["media_id"] = media.id
    return Message(
        id=new_id("m"), channel=WEBCHAT, account=ACCOUNT,
        native_id=f"{visitor}:{client_id}", sender_ref=visitor, text=text, ts=time.time(),
        customer_name=name[:64] or None, raw=raw, kind=media.kind if media is not None else Kind.TEXT, media=media,
    )
