"""Messages: what a customer sends and what is sent back, whatever the channel, and the files and
page cards they carry; how a message is kept in Redis (`encode_message`, `decode_message`).
"""

from __future__ import annotations

import enum

import msgspec

from router.models.base import Channel


class Direction(enum.StrEnum):
    IN = "in"
    """From the customer."""
    OUT = "out"
    """To the customer: an agent, the bot or the system speaking."""
    NOTE = "note"
    """Internal: seen by agents only (transfer notes, decision notes)."""


class Kind(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    LOCATION = "location"
    LINK = "link"
    EVENT = "event"
    UNKNOWN = "unknown"
    """A native type we do not model yet: kept with its raw payload, never dropped."""


class Sender(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class MediaRef(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A file in the media store (router/media): what a message carries in place of, or beside,
    its text. The bytes stay in the store; anyone holding a ref still passes the access check of
    `GET /api/v1/media/{id}` to read them."""

    id: str
    """The store's id: derived from the content hash and the owner, so the same bytes stored
    twice for one conversation are one file."""
    kind: Kind
    mime: str
    """Sniffed from the bytes, never taken from a name or header."""
    size: int
    name: str | None = None
    """The name the sender gave, for a download; never used to decide the type."""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    """Seconds, for voice and video when known."""
    conversation: str = ""
    """The owner: the conversation it was sent in (or, for a web chat upload not yet sent, the
    visitor's chat address `webchat:web:VISITOR` until the message is routed)."""
    channel: str = ""
    """The channel it came in on or is meant for; its allow-list admitted it."""
    thumb: bool = False
    """Whether the store holds a thumbnail (images)."""
    original: str | None = None
    """The id of the file this one was converted from (a WeChat AMR voice note kept beside its
    browser-playable copy)."""
    created: float = 0.0

    def url(self) -> str:
        """Where a signed-in client reads the bytes (credentials still needed: router/web/media_api.py)."""
        return f"/api/v1/media/{self.id}"

    def public(self) -> dict[str, object]:
        """The shape clients see inside message objects (docs/protocol.md, Media)."""
        out: dict[str, object] = {"id": self.id, "url": self.url(), "mime": self.mime, "size": self.size,
                                  "name": self.name or ""}
        for key in ("width", "height", "duration"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.thumb:
            out["thumb_url"] = self.url() + "?thumb=1"
        return out



class PageCard(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A mini program page card an agent sends (WeChat's `miniprogrampage`): a title, the page it
    opens, and its thumbnail, either a file in our media store (`thumb_media`, uploaded through
    POST /api/v1/media) or a media id the channel already holds (`thumb_media_id`)."""

    title: str
    pagepath: str
    thumb_media: str = ""
    thumb_media_id: str = ""

    def public(self) -> dict[str, object]:
        out: dict[str, object] = {"title": self.title, "pagepath": self.pagepath}
        if self.thumb_media:
            out["thumb_url"] = f"/api/v1/media/{self.thumb_media}"
        if self.thumb_media_id:
            out["thumb_media_id"] = self.thumb_media_id
        return out

    def summary(self) -> str:
        """The card as text, for search, the archive and clients that do not draw cards."""
        return f"{self.title}\n{self.pagepath}"


class Message(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One message in or out of a conversation, whatever the channel."""

    id: str
    channel: Channel
    account: str
    """Which of the shop's accounts on that channel (WeChat account, Telegram bot, 'web')."""
    native_id: str
    """The channel's own message id; with channel and account, the inbound idempotency key."""
    sender_ref: str
    """The channel's id for the customer (openid, chat id, web session visitor id)."""
    direction: Direction = Direction.IN
    sender: Sender = Sender.CUSTOMER
    kind: Kind = Kind.TEXT
    text: str = ""
    media: MediaRef | None = None
    """The file in the media store, once it is there (router/media)."""
    card: PageCard | None = None
    """A page card an agent sent (mini programs)."""
    native_media: str | None = None
    """The channel's own reference to fetch the file (WeChat media_id, Telegram file_id)."""
    native_name: str | None = None
    """The file's name as the channel gave it (a Telegram document's), kept for the download."""
    ts: float = 0.0
    conversation_id: str | None = None
    customer_id: str | None = None
    agent_id: str | None = None
    customer_name: str | None = None
    customer_avatar: str | None = None
    """An image URL of the customer the channel gave (WeChat headimgurl, a Telegram photo)."""
    raw: dict[str, object] | None = None
    """The native payload, kept for audit."""

    def dedupe_key(self) -> str:
        return f"{self.channel}:{self.account}:{self.native_id}"

    def whisper_to(self) -> str | None:
        """The agent a supervisor's whisper is for (router/ops/supervise.py); None for any other
        message. Only that agent and supervisors see it."""
        if self.direction is not Direction.NOTE or not self.raw:
            return None
        whisper = self.raw.get("whisper")
        return str(whisper.get("to") or "") if isinstance(whisper, dict) else None

    def public(self) -> dict[str, object]:
        """The shape clients see in `message` frames."""
        out: dict[str, object] = {
            "id": self.id,
            "from": self.sender.value,
            "text": self.text,
            "ts": self.ts,
            "kind": self.kind.value,
        }
        if self.media is not None:
            out["media"] = self.media.public()
        if self.card is not None:
            out["card"] = self.card.public()
        if self.agent_id:
            out["agent_id"] = self.agent_id
        if self.direction is Direction.NOTE:
            out["note"] = True
            to = self.whisper_to()
            if to is not None:
                out["whisper"] = True
                out["whisper_to"] = to
            if self.raw and isinstance(self.raw.get("event"), dict):
                # What the note records, as data: the console words it in its own language
                # (issue 19); `text` stays for search, the archive and older consoles.
                out["event"] = self.raw["event"]
        return out


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
    author_name: str = ""
    """The agent's name, for the customer's page: a supervisor who joined answers under their own."""
    sender: Sender = Sender.AGENT
    client_msg_id: str | None = None
    kind: Kind = Kind.TEXT
    media: MediaRef | None = None
    """A file from the media store sent with (or instead of) the text; its channel sends both."""
    card: PageCard | None = None
    """A page card sent after the text, on channels with `capabilities.page_cards`."""
    ts: float = 0.0

    def public(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id, "from": self.sender.value, "text": self.text, "ts": self.ts,
                                  "kind": self.kind.value}
        if self.media is not None:
            out["media"] = self.media.public()
        if self.card is not None:
            out["card"] = self.card.public()
        if self.sender is Sender.AGENT:
            out["agent_id"] = self.author
            if self.author_name:
                out["agent_name"] = self.author_name
        return out


_message_encoder = msgspec.json.Encoder()
_message_decoder = msgspec.json.Decoder(Message)


def encode_message(msg: Message) -> bytes:
    return _message_encoder.encode(msg)


class _LegacyMessage(msgspec.Struct, kw_only=True):
    """The one field whose type changed: before the media store, `media` held the channel's
    reference as a string."""

    media: str | None = None


_legacy_decoder = msgspec.json.Decoder(_LegacyMessage)


def decode_message(data: bytes | str) -> Message:
    try:
        return _message_decoder.decode(data)
    except msgspec.ValidationError:
        # A message written before media refs: its string `media` is the channel's reference.
        legacy = _legacy_decoder.decode(data)
        if legacy.media is None:
            raise
        raw = msgspec.json.decode(data)
        raw["native_media"] = raw.pop("media")
        return msgspec.convert(raw, Message)
