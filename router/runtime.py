"""The running router: one object that owns the store, the workers and the local connections.

`Runtime` is an async context manager: entering connects to Redis (starting the embedded one when
no URL is given), loads scripts, syncs agents and pools from the config, and hands the long-running
loops (route worker, sender, fan-out, timers, rule sync, roster, bot) to one supervisor
(router/supervisor.py); leaving stops them, then closes what was opened. A start that fails half
way closes what it had opened before the error goes on.

A process has a role (`kefu serve --role`, docs/operations.md): `all` runs everything; `web` takes
webhooks and sockets and ingests, but routes nothing; `worker` runs the loops that move what was
taken (route workers, senders, timers, bot, archive) and holds no sockets. At the peak a few web
processes and a worker share one Redis, so a burst of webhooks does not wait behind the routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

from aiohttp import web

from adapters.base import Adapter, Deps, adapter_class
from adapters.wecom_state import StateSync
from kefu_common.errors import StartupError, StoreError
from router import logsafe
from router.accounts.audit import AccountAudit
from router.accounts.oidc import Oidc
from router.accounts.service import Accounts
from router.accounts.team import Team
from router.archive.audit import AuditCopier
from router.archive.db import Archive, default_url
from router.archive.retention import Retention
from router.archive.worker import ArchiveWorker
from router.auth import AgentTokens, Sessions, SessionSigner
from router.config.settings import Settings
from router.hooks import admin as hook_admin
from router.hooks.delivery import HookSender
from router.hooks.fanout import Fanout
from router.live.apply import Applier
from router.live.sync import LiveSync, config_seeds
from router.media import build_store
from router.ops import promises
from router.ops.approvals import Approvals
from router.ops.audit import Audit
from router.ops.csat import ChannelCsat, may_be_rating
from router.ops.desk import Desk
from router.ops.handover import KINDS as HANDOVER_KINDS
from router.ops.handover import Handovers
from router.ops.presence import Presence
from router.ops.promises import Promises
from router.ops.queue_texts import TIMER_KINDS as QUEUE_TIMER_KINDS
from router.ops.queue_texts import QueueTexter
from router.ops.roster import Roster
from router.ops.sla import TIMER_KINDS, SlaService
from router.pipeline.fanout import Hub
from router.pipeline.ingest import Direct, Ingestor
from router.pipeline.media_fetch import MediaFetcher
from router.pipeline.outbox import Outbox, Sender
from router.pipeline.profile_fetch import ProfileFetcher
from router.pipeline.timers import TimerRunner
from router.pipeline.transcript import Transcript
from router.pipeline.worker import RouteWorker
from router.rules.holder import RulesHolder
from router.rules.sync import RuleSync
from router.stalls import Stalls
from router.store import Store
from router.store.embedded import EmbeddedRedis, EmbeddedWatch
from router.supervisor import Service, Supervisor

log = logging.getLogger("kefu.runtime")

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")

Role = Literal["all", "web", "worker"]
ROLES: tuple[Role, ...] = get_args(Role)


class Runtime:
    def __init__(self, settings: Settings, redis_url: str | None = None, data_dir: str | Path = ".kefu",
                 redis_cluster: bool = False, role: Role = "all") -> None:
        if role not in ROLES:
            raise StartupError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
        self.role = role
        self.settings = settings
        self.redis_url = redis_url or settings.redis.url  # KEFU_REDIS_URL included (router/config/environment.py)
        cluster = redis_cluster or settings.redis.cluster  # KEFU_REDIS_CLUSTER included
        if cluster and not self.redis_url:
            raise StoreError("Redis Cluster mode needs a node's address: set redis.url (or --redis-url)")
        self.data_dir = Path(data_dir)
        self.embedded: EmbeddedRedis | None = None
        self.tokens = AgentTokens(settings.agents)
        self.sockets: set[web.WebSocketResponse] = set()
        self.clock: Callable[[], float] = time.time
        """What the shift roster reads the time from; tests put a fixed clock here."""
        self.supervisor = Supervisor()
        self.stalls = Stalls()
        """How long this process's event loop was held (/metrics)."""
        self.started = time.time()
        if not self.redis_url:
            if role != "all":
                # Its socket lives in this process's data dir: no other process could share it.
                raise StartupError(f"--role {role} needs a Redis the other processes share: set redis.url "
                                   "or --redis-url (the embedded one serves a single `--role all` process)")
            # The embedded server's socket path is fixed, so every part can be built now.
            self.embedded = EmbeddedRedis(self.data_dir)
            self.redis_url = self.embedded.url
        self.store = Store(self.redis_url, settings.redis.namespace, cluster=cluster, options=settings.redis)
        self.archive = Archive(settings.archive.url or default_url(self.data_dir))
        self.archiver = ArchiveWorker(self.store, self.archive, settings.archive.batch_size,
                                      settings.archive.claim_idle_ms, max_tries=settings.archive.max_tries)
        self.media = build_store(settings.media, self.data_dir)
        self.audit = Audit(self.store, self.archive)
        """Every change a person makes (router/ops/audit.py); the copier keeps it in the archive."""
        self.audit_copier = AuditCopier(self.store, self.archive)
        self.audit.on_record.append(self.audit_copier.wake)
        self.retention = Retention(self.store, self.archive, settings.retention.redis_after_close_s,
                                   settings.retention.archive_days, settings.retention.sweep_interval_s,
                                   media=self.media, pending_s=settings.media.pending_s)
        self.transcript = Transcript(self.store)
        self.ingestor = Ingestor(self.store, settings.retention.idempotency_s)
        self.outbox = Outbox(self.store, settings.retention.idempotency_s)
        self.hub = Hub(self.store, sockets=role != "worker")
        self.rules = RulesHolder.from_settings(settings)
        self.rule_sync = RuleSync(self.store, self.rules, settings)
        self.sla = SlaService(self.store, settings)
        self.sla.check(self.rules.current)
        self.rule_sync.versions.sla_profiles = frozenset(self.sla.profiles)
        self.timers = TimerRunner(self.store, max_sleep_s=settings.sla.timer_max_sleep_s,
                                  lease_s=settings.sla.timer_lease_s)
        # The domain operations: callers get these, not the runtime.
        self.channel_csat = ChannelCsat(self.store, self.outbox, settings.csat)
        self.desk = Desk(self.store, self.transcript, self.timers, csat=self.channel_csat, audit=self.audit)
        self.approvals = Approvals(self.store, self.transcript, settings, audit=self.audit)
        self.presence = Presence(self.store, self.hub.agents, self.timers, settings.ops.disconnect_grace_s)
        self.roster = Roster(self.store, settings, self.presence, lambda: self.clock())
        for kind in TIMER_KINDS:
            self.timers.on(kind, self.sla.fire)
        self.queue_texts = QueueTexter(self.store, self.outbox, self.transcript, settings.sla)
        for kind in QUEUE_TIMER_KINDS:
            self.timers.on(kind, self.queue_texts.announce)
        self.promises = Promises(self.store, self.sla, self.transcript, self.outbox)
        self.timers.on(promises.TIMER_KIND, self.promises.fire)
        if role != "web":
            # Every process sees every customer frame; the web ones leave the texts to the workers.
            self.hub.customer_watchers.append(self.queue_texts.seen)
        self.handovers = Handovers(self.store, self.transcript, self.outbox, settings.ops.agent_left_text)
        for kind in HANDOVER_KINDS:
            self.timers.on(kind, self.handovers.fire)
        from router.bot.pii import install_log_masking
        from router.bot.setup import build_bot  # imported here: it loads jieba only when used

        self.bot = build_bot(settings, self.store, self.transcript, self.outbox, self.rules)
        self.live = LiveSync(self.store, Applier(self.store, self.bot, self.roster, self.rule_sync),
                             config_seeds(settings, self.bot.library))
        """Pools, hours, shifts, quick replies and the FAQ as admins edit them (router/live)."""
        self.signer = SessionSigner(b"", settings.channels.webchat.session_ttl_s)
        self.sessions = Sessions(self.store, self.tokens, self.signer)
        self.account_audit = AccountAudit(self.audit.record)
        self.accounts = Accounts(self.store, settings.accounts, self.tokens, self.sessions, self.account_audit,
                                 lambda: self.clock())
        self.team = Team(self.store, self.accounts, self.presence)
        self.oidc = Oidc(settings.accounts.oidc, self.store.accounts) if settings.accounts.oidc else None
        self.adapters: dict[tuple[str, str], Adapter] = {}
        deps = Deps(sink=self.ingestor, store=self.store, media=self.media)
        for name, account in settings.channels.all():
            cls = adapter_class(name)
            if cls is not None and getattr(account, "enabled", True):
                self._add(cls.from_settings(account, deps))
        self.hook_fanout = Fanout(self.store, settings.webhook_delivery)
        self.wecom_state = StateSync.of(self.store, self.adapters.values())
        """Moves WeCom kf session states at assignment and close (None without a WeCom account)."""
        self.hook_sender = HookSender(self.store, settings.webhook_delivery, settings.worker.claim_idle_ms,
                                      settings.worker.max_tries)
        self.fetcher = MediaFetcher(self.store, self.media, self.adapters, self.timers)
        self.profile_fetcher = ProfileFetcher(self.store, self.adapters, self.media)
        if settings.worker.direct_follow_ups:
            # Here: the profile fetcher needs the adapters, which need the ingestor.
            self.ingestor.direct = Direct(settings.bot.debounce_s, self.transcript.max_messages,
                                          held_back=may_be_rating, profiles=self.profile_fetcher,
                                          bot_wake=self.bot.wake if settings.bot.enabled and role != "web" else None,
                                          reopen_window_s=settings.worker.reopen_window_s, rules=self.rules,
                                          bot_first=settings.bot.enabled,
                                          queued=self.bot.queued if settings.bot.enabled else None)
        install_log_masking()  # phone numbers, ID numbers and addresses never reach the logs
        logsafe.install(settings)  # nor do tokens, keys and signatures

    async def __aenter__(self) -> Runtime:
        try:
            await self._start()
        except BaseException:
            await self.stop(deadline_s=0)
            raise
        return self

    async def _start(self) -> None:
        if self.embedded is not None:
            await self.embedded.start()
        await self.store.open()
        await self.store.settle_partitions()  # before any stream is read or written
        await self.store.sync_config(self.settings)
        await self.sla.sync()
        if self.wecom_state is not None:
            await self.wecom_state.keep_on()  # before the webhooks' sync, which would clear hook_on
        await hook_admin.sync_config(self.store, self.settings.webhooks)
        self.signer.secret = await self._webchat_secret()
        await self.rule_sync.start()  # before the worker: it decides with Redis's version
        await self.bot.start()
        await self.live.start()  # after the bot loaded its files: Redis's versions win
        for adapter in self.adapters.values():
            await adapter.start()
        # Every process consumes every partition: one route worker and one sender each.
        parts = range(self.store.partitions)
        self.workers = [RouteWorker(self.store, self.transcript, self.rules, self.settings.worker,
                                    bot=self.bot if self.settings.bot.enabled else None,
                                    burst_window_s=self.settings.bot.debounce_s, media=self.media,
                                    fetches=self.fetcher, ratings=self.channel_csat, part=p,
                                    profiles=self.profile_fetcher)
                        for p in parts]
        self.senders = [Sender(self.store, self.transcript, self.adapters, self.settings.outbox,
                               self.settings.worker.claim_idle_ms, self.settings.worker.max_tries, part=p)
                        for p in parts]
        self.worker, self.sender = self.workers[0], self.senders[0]
        # Sockets (web) and queue texts (worker); the loop's stalls in every process.
        services: list[Service] = [self.hub, self.rule_sync, self.live, self.stalls]
        if self.role == "web":
            from router.bot.library import LibraryWatch  # here, as build_bot: jieba loads only when used

            services.append(LibraryWatch(self.bot.library))  # the bot stage reloads them elsewhere
        else:
            services += [*self.workers, *self.senders, self.timers, self.bot, self.roster, self.archiver,
                         self.audit_copier, self.retention, self.hook_fanout, self.hook_sender]
            if self.wecom_state is not None:
                services.append(self.wecom_state)
        if self.embedded is not None:
            services.append(EmbeddedWatch(self.embedded))
        self.supervisor.start(services)
        await asyncio.wait_for(self.hub.subscribed.wait(), 10)

    def _add(self, adapter: Adapter) -> None:
        self.adapters[(adapter.channel, adapter.account)] = adapter

    async def _webchat_secret(self) -> bytes:
        configured = self.settings.channels.webchat.secret
        if configured:
            return configured.encode()
        # One random secret for every process sharing this Redis; the first one to start sets it.
        key = self.store.keys.webchat_secret
        return await self.store.shared_secret(key)

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self, deadline_s: float | None = None) -> None:
        """Stop taking work, let the current batch finish until the deadline, then close. Safe
        on a runtime that started only in part: each step closes what exists."""
        deadline_s = self.settings.limits.shutdown_grace_s if deadline_s is None else deadline_s
        await self.supervisor.stop(deadline_s)
        await self.presence.close()
        await self.queue_texts.close()
        await self.hub.close_all()
        await self.bot.aclose()
        await self.fetcher.close()
        await self.profile_fetcher.close()
        for adapter in self.adapters.values():
            with contextlib.suppress(Exception):
                await adapter.close()
        await self._close_store()

    async def _close_store(self) -> None:
        await self.media.aclose()
        await self.store.close()
        await self.archive.aclose()
        if self.embedded is not None:
            await self.embedded.stop()

    @property
    def ready(self) -> tuple[bool, str]:
        """Ready when every service runs and pub/sub is subscribed; else which one is not, and why."""
        down = self.supervisor.down()
        if down:
            return False, "; ".join(f"{s.name} {s.reason}" for s in down)
        if not self.hub.subscribed.is_set():
            return False, "fan-out: pub/sub not subscribed"
        return True, "ok"
