"""The config's shape: one frozen struct per section, with its defaults and what each key means.

router/config/settings.py reads a file into these and reports every problem as FILE:LINE:COL;
the sections of their own (bot, limits, media, ops, assignment) live beside their checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from adapters import registry
from router.bot.config import BotSettings
from router.config.accounts import AccountSettings
from router.config.limits import RateLimitSettings, RedisSettings
from router.config.media import MediaSettings
from router.config.ops import OpsSettings, ShiftSettings
from router.config.webhooks import WebhookDeliverySettings, WebhookSettings
from router.config.widget import WelcomeSettings
from router.models import Role
from router.pipeline.assignment import AssignmentSettings


class _Base(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class PoolSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: str
    name: str = ""
    skills: tuple[str, ...] = ()
    """Skills the pool's conversations may ask for: names a rule may use beside the agents' own."""


class AgentSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: str
    token: str
    name: str = ""
    role: Role = Role.AGENT
    pools: tuple[str, ...] = ()
    skills: dict[str, int] = msgspec.field(default_factory=dict)
    max_chats: int = 5
    password_hash: str = ""
    """An argon2 hash (`kefu passwd`): the agent may sign in with id and password; set only
    when the account has no password yet, so a password changed in the console stays."""
    discount_limit: float | None = None
    """Yuan this agent may grant without a supervisor; `ops.discount_limit` when unset."""


class WebchatSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    enabled: bool = True
    secret: str | None = None
    """Signs session tokens; without one, a random secret is kept in Redis for all processes."""
    session_ttl_s: int = 30 * 24 * 3600
    title: str = ""
    allowed_origins: tuple[str, ...] = ()
    """Shop sites (scheme://host[:port]) that may frame /chat through the embeddable widget."""
    identify_secret: str | None = None
    """The HMAC key of kefu('identify', ...): the shop's backend signs the profile with it
    (docs/widget.md, "Who the customer is"). Without one, identify calls are refused."""
    identify_max_age_s: int = 24 * 3600
    """How old a signed profile's `ts` may be; an older one is refused (a replayed page)."""
    welcome: WelcomeSettings = WelcomeSettings()
    """The card before the first message: name, logo, colour, greeting (router/config/widget.py)."""


class ChannelAccounts(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The `channels:` section: each channel's accounts, parsed with the settings type its adapter
    registers (adapters/registry.py). A channel the config leaves out has its default accounts
    (web chat: one, switched on; the others: none)."""

    configured: dict[str, tuple[Any, ...]] = msgspec.field(default_factory=dict)

    def of(self, channel: str) -> tuple[Any, ...]:
        if channel in self.configured:
            return self.configured[channel]
        cls = registry.get(channel)
        default = cls.default_settings() if cls is not None else None
        return () if default is None else (default,)

    def all(self) -> list[tuple[str, Any]]:
        """(channel, settings) of every account of every registered channel, in order."""
        return [(name, acc) for name in registry.names() for acc in self.of(name)]

    @property
    def webchat(self) -> WebchatSettings:
        found = self.of("webchat")
        return found[0] if found else WebchatSettings(enabled=False)


class RoutingSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    rules: str | None = None
    default_pool: str | None = None
    """Where conversations go when no rules file is configured; the first pool if unset."""


class WorkerSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    batch_size: int = 100
    block_ms: int = 2000
    claim_idle_ms: int = 30_000
    """An entry pending this long on a consumer is taken back (XAUTOCLAIM) by another."""
    reopen_window_s: float = 600.0
    """A message this soon after a close reopens the conversation; later starts a new one."""
    debug_delay_ms: int = 0
    """Slows each routed message down; for crash drills and demos only."""
    max_tries: int = 3
    """An inbound or outbound entry that fails this often goes to its stream's dead letters."""
    direct_follow_ups: bool = True
    """A customer's text line to a conversation someone holds (an agent, a queue, the bot) is
    routed as it is taken in, not through the inbound stream, and so is a new web chat visitor's
    first line, decided there (router/pipeline/ingest.py); ignored on a Redis Cluster."""


class OutboxSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    concurrency: int = 64


class LimitSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    max_frame_bytes: int = 64 * 1024
    max_text_chars: int = 8000
    max_body_bytes: int = 1024 * 1024
    shutdown_grace_s: float = 10.0
    socket_queue_frames: int = 1000
    """Frames a socket may have waiting to be sent; past this it is closed (1008, slow consumer)."""
    socket_send_timeout_s: float = 30.0
    """One frame not sent within this long closes the socket the same way."""


class SlaSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    profiles: str | None = None
    """YAML file of SLA profiles (docs/sla.md); the packaged config/sla.yaml when unset."""
    timer_max_sleep_s: float = 1.0
    """Longest a timer runner sleeps, so timers another process schedules fire this late at most."""
    timer_lease_s: float = 30.0
    """A claimed timer not acked within this long is claimed again by another process."""
    queue_text_interval_s: float = 60.0
    """WeChat/Telegram customers get a queue-position text at most this often, when it changed."""
    queue_announce_delay_s: float = 0.5
    """After the queue moves, waiting customers hear their new place this much later (coalesced)."""
    queue_announce_limit: int = 100
    """How many waiting conversations per pool hear their new place when the queue moves."""


class ArchiveSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: str | None = None
    """sqlite:///PATH or postgresql://USER@HOST:PORT/DB; SQLite under the data dir when unset."""
    batch_size: int = 50
    """Closed conversations one archive worker turn writes (each in its own transaction)."""
    claim_idle_ms: int = 30_000
    """An archive entry pending this long on a consumer that died is taken back by another."""
    max_tries: int = 5
    """A conversation the database refuses this often while it answers (a poison row) goes to the
    archive's dead letters; an outage never counts."""


class CsatSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    ask_on_channels: bool = True
    """After an agent closes a WeChat or Telegram conversation, ask for a rating by text."""
    window_s: float = 3600.0
    """A bare 1-5 the customer sends within this long after the prompt is their rating; later,
    or anything else, is routed as a message."""
    prompt: str = "请为本次服务打分，回复数字：5 非常满意，4 满意，3 一般，2 不满意，1 非常不满意"
    thanks: str = "感谢您的评价！"


class RetentionSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    redis_after_close_s: float = 86400.0
    """An archived conversation's Redis keys go this long after it closed."""
    archive_days: float = 730.0
    """Archive rows of conversations closed longer ago than this are pruned."""
    sweep_interval_s: float = 60.0
    """How often each process looks for conversations past retention."""
    idempotency_s: int = 7 * 24 * 3600
    """How long a channel's message id and an agent's client_msg_id are remembered, so a retry
    or a resent reply within it has no second effect. Retention drops a conversation's own marks
    with it; those of replies expire after this."""


class WebSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (CIDR) of the TLS proxies in front of kefu; only their
    X-Forwarded-Proto is believed."""
    cookie_secure: bool | None = None
    """Secure flag of the console's cookie: true or false forces it; unset follows the scheme the
    browser used (the request's own, or a trusted proxy's X-Forwarded-Proto)."""


class MetricsSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    token: str | None = None
    """When set, GET /metrics needs `Authorization: Bearer TOKEN` (or token_env: NAME)."""


class ShopSettings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    name: str = "kefu-router demo shop"


class Settings(_Base, frozen=True, forbid_unknown_fields=True, kw_only=True):
    shop: ShopSettings = ShopSettings()
    redis: RedisSettings = RedisSettings()
    metrics: MetricsSettings = MetricsSettings()
    pools: tuple[PoolSettings, ...] = ()
    agents: tuple[AgentSettings, ...] = ()
    channels: ChannelAccounts = ChannelAccounts()
    routing: RoutingSettings = RoutingSettings()
    worker: WorkerSettings = WorkerSettings()
    outbox: OutboxSettings = OutboxSettings()
    limits: LimitSettings = LimitSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    web: WebSettings = WebSettings()
    assignment: AssignmentSettings = AssignmentSettings()
    ops: OpsSettings = OpsSettings()
    shifts: tuple[ShiftSettings, ...] = ()
    sla: SlaSettings = SlaSettings()
    bot: BotSettings = BotSettings()
    archive: ArchiveSettings = ArchiveSettings()
    retention: RetentionSettings = RetentionSettings()
    csat: CsatSettings = CsatSettings()
    media: MediaSettings = MediaSettings()
    accounts: AccountSettings = AccountSettings()
    webhooks: tuple[WebhookSettings, ...] = ()
    webhook_delivery: WebhookDeliverySettings = WebhookDeliverySettings()
    source: str = "<builtin>"
    base_dir: str = "."
    """Directory relative paths in the file are resolved against."""

    def rules_path(self) -> Path | None:
        if not self.routing.rules:
            return None
        p = Path(self.routing.rules)
        return p if p.is_absolute() else Path(self.base_dir) / p

    def pool_ids(self) -> list[str]:
        return [p.id for p in self.pools]
