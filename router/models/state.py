"""What the router keeps of the people in a conversation and of the conversation itself, as read
from Redis (router/store): customers, conversations, agents, and the states they are in.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec


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
