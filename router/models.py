"""The normalised model every channel is translated into.

Values are frozen msgspec structs: cheap to build on the hot path, and encoded to JSON for Redis
and frames without a hand-written serializer. States are `str` enums so they read well in Redis.
"""

from __future__ import annotations

import enum
import random
import re
import time
from typing import Any, NewType

import msgspec

Channel = NewType("Channel", str)
"""A channel's name, as its adapter registers it (adapters/registry.py): an open set, so a new
channel needs no change here."""

WEBCHAT = Channel("webchat")
"""The shop's own web chat, which the router serves itself (its widget, page and socket)."""


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


class ConversationState(enum.StrEnum):
    NEW = "new"
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class AgentStatus(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


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


def new_id(prefix: str) -> str:
    """Time-ordered, collision-safe id: sortable by creation, readable in logs. Not a secret: the
    40 random bits come from `random`, seeded from the OS per process and again in a forked child,
    since os.urandom's system call per id was 2% of a busy process's samples (several ids per
    message)."""
    return f"{prefix}_{time.time_ns() // 1000:x}{random.getrandbits(40):010x}"


_ID_BODY = re.compile(r"[0-9a-f]{16,32}")


def could_be_id(prefix: str, value: str) -> bool:
    """Whether `value` has the shape new_id(prefix) gives, so a store could hold it: what never
    had that shape is unknown everywhere, without asking a store that may be down."""
    head, sep, body = value.partition("_")
    return head == prefix and sep == "_" and _ID_BODY.fullmatch(body) is not None


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


class Customer(msgspec.Struct, frozen=True, kw_only=True):
    """One person, whichever channels they write from."""

    id: str
    name: str = ""
    segment: str = "new"
    tags: tuple[str, ...] = ()
    identities: tuple[str, ...] = ()
    """Channel identities linked to this customer, as 'channel:account:native_user', and the
    anchors that linked them ('phone::DIGEST', 'user:web:ID', 'unionid:wechat:ID', 'order::NO')."""
    phone: str = ""
    """Masked for display ('138****5678'); the number itself is kept only as a digest to link by."""
    attributes: dict[str, str] = msgspec.field(default_factory=dict)
    """Free attributes a shop sets (member level, city, ...), shown in the side panel."""
    avatar: str = ""
    """An image URL from the channel (WeChat headimgurl, a Telegram profile photo) or the shop."""
    product: dict[str, Any] | None = None
    """What the customer was looking at on the shop's page (kefu('context', ...))."""
    merged_into: str = ""
    """Set when this customer was merged into another (reversible: POST .../unmerge)."""

    def view(self) -> dict[str, Any]:
        """The shape the API shows."""
        return {"id": self.id, "name": self.name, "segment": self.segment, "tags": list(self.tags),
                "identities": list(self.identities), "phone": self.phone, "attributes": dict(self.attributes),
                "avatar": self.avatar, "product": self.product, "merged_into": self.merged_into or None}


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation's routing state, as read from its Redis hash (router.store.conversations).

    `decision`, `sla` and `bot` stay JSON-shaped: they are records the console shows as they are.
    """

    id: str
    customer_id: str | None = None
    channel: str | None = None
    account: str | None = None
    chat: str | None = None
    """Where replies go on the channel (openid, chat id, web visitor)."""
    state: ConversationState = ConversationState.NEW
    pool: str | None = None
    agent: str | None = None
    priority: int = 0
    messages: int = 0
    reopened: int = 0
    created: float | None = None
    updated: float | None = None
    queued_at: float | None = None
    assigned_at: float | None = None
    first_reply_at: float | None = None
    closed_at: float | None = None
    resolution: str | None = None
    decision: dict[str, Any] | None = None
    """The rules' decision merged with the latest choice of agent."""
    sla: dict[str, Any] = msgspec.field(default_factory=dict)
    bot: dict[str, Any] | None = None
    """What the bot learned before it handed off; None when it never did."""
    bot_turn: dict[str, Any] | None = None
    """The bot's record of its latest turn: topic, FAQ-vs-order arbitration (intent margin and
    FAQ confidence), the parts of a multi-question turn."""
    linked_order: str | None = None
    """The order an agent linked to the conversation (not shown in the view)."""
    waiting: bool = False
    """Its agent parked it waiting for the customer (wait.lua): out of their active list, its
    response clocks paused, still theirs and still on their load."""
    waiting_until: float | None = None
    """When it wakes by itself; None: when the customer writes (or the agent takes it back)."""

    def view(self) -> dict[str, Any]:
        """The shape the API and frames show (the reply address `chat` stays inside)."""
        return {
            "id": self.id, "state": self.state.value, "customer_id": self.customer_id,
            "channel": self.channel, "account": self.account, "pool": self.pool, "agent": self.agent,
            "priority": self.priority, "messages": self.messages, "reopened": self.reopened,
            "created": self.created, "updated": self.updated, "queued_at": self.queued_at,
            "assigned_at": self.assigned_at, "first_reply_at": self.first_reply_at,
            "closed_at": self.closed_at, "resolution": self.resolution, "decision": self.decision,
            "sla": self.sla, "bot": self.bot, "bot_turn": self.bot_turn,
            "waiting": self.waiting, "waiting_until": self.waiting_until,
        }


class Agent(msgspec.Struct, frozen=True, kw_only=True):
    """An agent with their live status, load and cap, as read from Redis (router.store.agents)."""

    id: str
    name: str
    role: Role = Role.AGENT
    status: AgentStatus = AgentStatus.OFFLINE
    max_chats: int = 0
    """The cap in force: a supervisor's live override, else the config's."""
    cap_configured: int = 0
    cap_override: int | None = None
    load: int = 0
    pools: tuple[str, ...] = ()
    skills: dict[str, int] = msgspec.field(default_factory=dict)
    """Skill name to level, 1 (novice) to 5 (expert)."""
    disabled: bool = False
    """The account is disabled: no sign-in, never online (router/accounts/)."""
    away_reason: str = ""
    """Why the agent is away (busy, break, training or a configured reason); '' when not away
    or when none was given."""
    status_since: float = 0.0
    """When the status (and reason) last changed, epoch seconds."""
    away_today: dict[str, float] = msgspec.field(default_factory=dict)
    """Seconds away today (UTC) per reason, 'away' for none, the running span included."""
    avatar: str = ""
    """The agent's profile picture, `/api/v1/media/{id}`, or '' (initials are drawn instead)."""

    def view(self) -> dict[str, Any]:
        """The shape the API shows."""
        return {"id": self.id, "name": self.name, "role": self.role.value, "status": self.status.value,
                "max_chats": self.max_chats, "cap_configured": self.cap_configured,
                "cap_override": self.cap_override, "load": self.load, "pools": list(self.pools),
                "skills": dict(self.skills), "disabled": self.disabled, "away_reason": self.away_reason,
                "status_since": self.status_since, "away_today": dict(self.away_today), "avatar": self.avatar or None}


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
