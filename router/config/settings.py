"""Loading the shop's YAML config: loud, positioned errors, secrets from the environment.

Order of precedence, as starlette's Config: command-line flag, then `KEFU_*` environment
(router/config/environment.py: `KEFU_WORKER_MAX_TRIES` is worker.max_tries), then the file, then
the default here. Any key `X_env: NAME` stands for `X` read from environment variable
NAME, so secrets stay out of the file. Every problem is reported as FILE:LINE:COL: message.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from pathlib import Path
from typing import Any

import msgspec

from adapters import registry
from kefu_common.errors import ConfigError, ConfigErrors
from kefu_common.yamlpos import YamlDoc, load_yaml, load_yaml_file
from router.bot.config import check_bot
from router.config import environment
from router.config.accounts import check_accounts
from router.config.limits import check_rate_limits, check_redis
from router.config.media import check_media
from router.config.ops import check_ops
from router.config.problems import msgspec_problem
from router.config.schema import (
    AgentSettings,
    ArchiveSettings,
    ChannelAccounts,
    CsatSettings,
    LimitSettings,
    MetricsSettings,
    OutboxSettings,
    PoolSettings,
    RetentionSettings,
    RoutingSettings,
    Settings,
    ShopSettings,
    SlaSettings,
    WebchatSettings,
    WebSettings,
    WorkerSettings,
)
from router.config.shape import check_keys, key_at, placeholder, resolve_env
from router.config.webhooks import check_webhooks
from router.config.widget import check_welcome
from router.pipeline.assignment import check as check_assignment

__all__ = [
    "AgentSettings",
    "ArchiveSettings",
    "ChannelAccounts",
    "CsatSettings",
    "LimitSettings",
    "MetricsSettings",
    "OutboxSettings",
    "PoolSettings",
    "RetentionSettings",
    "RoutingSettings",
    "Settings",
    "ShopSettings",
    "SlaSettings",
    "WebSettings",
    "WebchatSettings",
    "WorkerSettings",
    "load_settings",
    "parse_settings",
    "read_settings",
]
"""The structs are re-exported: callers import a section and the loader from one place."""


_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?$")


def load_settings(path: str | Path) -> Settings:
    """Load and validate a config file; raise ConfigErrors naming file, line and key."""
    settings, errors = read_settings(path)
    if errors:
        raise ConfigErrors(errors)
    assert settings is not None
    return settings


def read_settings(path: str | Path, unset_env: list[ConfigError] | None = None,
                  ) -> tuple[Settings | None, list[ConfigError]]:
    """Settings and every problem, for a checker that goes on to what they name.

    Settings is None when the file's shape is wrong (syntax, keys, types); after a problem of
    meaning (an unknown pool, a level out of range) it is still returned. With `unset_env`, an
    `X_env` naming an unset variable is recorded there and X gets a placeholder instead.
    """
    try:
        doc = load_yaml_file(path)
    except ConfigError as exc:
        return None, [exc]
    return _read_doc(doc, str(Path(path).resolve().parent), unset_env)


def parse_settings(text: str, file: str = "<config>", base_dir: str = ".") -> Settings:
    settings, errors = _read_doc(load_yaml(text, file), base_dir, None)
    if errors:
        raise ConfigErrors(errors)
    assert settings is not None
    return settings


def _read_doc(doc: YamlDoc, base_dir: str, unset_env: list[ConfigError] | None,
              ) -> tuple[Settings | None, list[ConfigError]]:
    if not isinstance(doc.data, dict):
        return None, [doc.error((), "the config must be a mapping of sections")]
    errors: list[ConfigError] = []
    check_keys(doc, (), Settings, errors)
    data = resolve_env(doc, doc.data, (), errors, unset_env)
    errors += environment.apply(data, Settings, os.environ)
    if errors:
        return None, errors
    raw_channels = data.pop("channels", None)
    data = {**data, "source": doc.file, "base_dir": base_dir}
    try:
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        return None, [validation_error(doc, exc)]
    channels = _read_channels(doc, raw_channels, errors)
    if channels is None:
        return None, errors
    settings = msgspec.structs.replace(settings, channels=channels)
    return settings, errors + _check_meaning(doc, settings)


def _read_channels(doc: YamlDoc, raw: Any, errors: list[ConfigError]) -> ChannelAccounts | None:
    """Each `channels.<name>` with its channel's own settings type, and its channel's checks of
    meaning, positioned at the offending key. None when a shape is wrong."""
    if raw is None:
        return ChannelAccounts()
    if not isinstance(raw, dict):
        errors.append(doc.error(("channels",), "channels: expected a mapping of channel name to its settings"))
        return None
    shape_ok = True
    configured: dict[str, tuple[Any, ...]] = {}
    known = registry.names()
    for name, value in raw.items():
        where: tuple[str | int, ...] = ("channels", name)
        cls = registry.get(str(name))
        if cls is None:
            hint = difflib.get_close_matches(str(name), known, n=1)
            errors.append(doc.error(where, f"unknown channel {name!r}; " + (
                f"did you mean {hint[0]!r}?" if hint else f"channels are: {', '.join(known)}"), key=True))
            shape_ok = False
            continue
        if cls.many and not isinstance(value, list):
            errors.append(doc.error(where, f"channels.{name}: expected a list of accounts"))
            shape_ok = False
            continue
        items = list(enumerate(value)) if cls.many else [(None, {} if value is None else value)]
        accounts: list[Any] = []
        seen: set[str] = set()
        for i, item in items:
            at = where if i is None else (*where, i)
            if not isinstance(item, dict):
                errors.append(doc.error(at, f"channels.{name}: each account is a mapping of its settings"))
                shape_ok = False
                continue
            before = len(errors)
            if at in doc.values:  # not when the section came from KEFU_* alone
                check_keys(doc, at, cls.settings_type, errors)
            if len(errors) > before:
                shape_ok = False
                continue
            try:
                acc = msgspec.convert(item, cls.settings_type, strict=False)
            except msgspec.ValidationError as exc:
                errors.append(validation_error(doc, exc, at))
                shape_ok = False
                continue
            for path, message in cls.validate(acc):
                if not placeholder(item, path):
                    errors.append(doc.error(key_at(doc, (*at, *path)), f"channels.{name}: {message}"))
            account = cls.account_of(acc)
            if account in seen:
                errors.append(doc.error(at, f"channels.{name}: two accounts are named {account!r}"))
            seen.add(account)
            accounts.append(acc)
        configured[str(name)] = tuple(accounts)
    return ChannelAccounts(configured=configured) if shape_ok else None


_PATH_RE = re.compile(r"`\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)`")


def validation_error(doc: YamlDoc, exc: msgspec.ValidationError,
                      prefix: tuple[str | int, ...] = ()) -> ConfigError:
    """Map msgspec's `$.agents[0].max_chats` path back to a line and column."""
    text = str(exc)
    m = _PATH_RE.search(text)
    path: list[str | int] = list(prefix)
    if m:
        for part in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", m.group(1)):
            path.append(part[0] if part[0] else int(part[1]))
    msg = _PATH_RE.sub("", text).replace(" - at ", "").strip()
    key = ".".join(str(p) for p in path)
    code, params = msgspec_problem(msg, key)
    return doc.error(tuple(path), f"{key}: {msg}" if key else msg, code=code, params=params)


def _check_meaning(doc: YamlDoc, s: Settings) -> list[ConfigError]:
    """What types alone cannot say: ids, references between sections, ranges."""
    errors: list[ConfigError] = []
    if not 0 <= s.redis.min_replicas_ack <= 5:
        errors.append(doc.error(("redis", "min_replicas_ack"), "redis.min_replicas_ack: expected 0 to 5"))
    if not 1 <= s.redis.replica_ack_timeout_ms <= 60_000:
        errors.append(doc.error(("redis", "replica_ack_timeout_ms"),
                                "redis.replica_ack_timeout_ms: expected 1 to 60000"))
    if not _ID.match(s.redis.namespace):
        # It goes inside every hash tag ({rt:NS}); a brace or colon there would split the tag.
        errors.append(doc.error(("redis", "namespace"),
                                f"redis.namespace {s.redis.namespace!r} must be 1-64 of A-Z a-z 0-9 _ . -"))
    pool_ids: set[str] = set()
    for i, p in enumerate(s.pools):
        if not _ID.match(p.id):
            errors.append(doc.error(("pools", i, "id"), f"pool id {p.id!r} must be 1-64 of A-Z a-z 0-9 _ . -",
                                    code="bad_pool_id", params={"value": p.id}))
        if p.id in pool_ids:
            errors.append(doc.error(("pools", i, "id"), f"duplicate pool id {p.id!r}",
                                    code="duplicate_pool_id", params={"value": p.id}))
        pool_ids.add(p.id)
    seen_agents: set[str] = set()
    seen_tokens: set[str] = set()
    for i, agent in enumerate(s.agents):
        where = ("agents", i)
        if not _ID.match(agent.id):
            errors.append(doc.error((*where, "id"), f"agent id {agent.id!r} must be 1-64 of A-Z a-z 0-9 _ . -"))
        if agent.id in seen_agents:
            errors.append(doc.error((*where, "id"), f"duplicate agent id {agent.id!r}"))
        seen_agents.add(agent.id)
        if len(agent.token) < 8:
            errors.append(doc.error((*where, "token"), "agents.token: must be at least 8 characters"))
        if agent.token in seen_tokens:
            errors.append(doc.error((*where, "token"), "agents.token: two agents share this token"))
        seen_tokens.add(agent.token)
        if not 0 <= agent.max_chats <= 100:
            errors.append(doc.error((*where, "max_chats"), "agents.max_chats: expected 0 to 100"))
        for j, pool in enumerate(agent.pools):
            if pool not in pool_ids:
                known = ", ".join(sorted(pool_ids)) or "none"
                errors.append(doc.error((*where, "pools", j), f"unknown pool {pool!r}; pools are: {known}"))
        for skill, level in agent.skills.items():
            if not 1 <= level <= 5:
                errors.append(doc.error((*where, "skills", skill), f"skill level for {skill!r} must be 1 to 5"))
    for i, origin in enumerate(s.channels.webchat.allowed_origins):
        if not _ORIGIN.match(origin):
            errors.append(doc.error(("channels", "webchat", "allowed_origins", i),
                                    f"{origin!r} is not an origin like https://shop.example.com[:port]"))
    for i, proxy in enumerate(s.web.trusted_proxies):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            errors.append(doc.error(("web", "trusted_proxies", i),
                                    f"{proxy!r} is not an IP address or network like 10.0.0.0/8"))
    if s.routing.default_pool and s.routing.default_pool not in pool_ids:
        errors.append(doc.error(("routing", "default_pool"), f"unknown pool {s.routing.default_pool!r}"))
    errors.extend(check_assignment(doc, s.assignment, pool_ids))
    if s.agents and not s.pools:
        errors.append(doc.error(("pools",), "at least one pool is needed when agents are configured"))
    errors.extend(check_redis(doc, s.redis, s.worker.block_ms))
    errors.extend(check_rate_limits(doc, s.rate_limits))
    if s.limits.socket_queue_frames < 1 or s.limits.socket_send_timeout_s <= 0:
        errors.append(doc.error(("limits",), "limits: socket_queue_frames must be at least 1 and "
                                             "socket_send_timeout_s more than 0"))
    if s.worker.batch_size < 1 or s.worker.batch_size > 10_000:
        errors.append(doc.error(("worker", "batch_size"), "worker.batch_size: expected 1 to 10000"))
    if s.outbox.max_attempts < 1:
        errors.append(doc.error(("outbox", "max_attempts"), "outbox.max_attempts: expected at least 1"))
    errors.extend(check_ops(doc, s.ops, s.shifts, s.agents))
    if s.sla.timer_max_sleep_s <= 0 or s.sla.timer_lease_s <= 0 or s.sla.queue_text_interval_s < 0:
        errors.append(doc.error(("sla",), "sla: timer_max_sleep_s and timer_lease_s must be more than 0, "
                                          "queue_text_interval_s at least 0"))
    if s.sla.profiles and not (Path(s.base_dir) / s.sla.profiles).exists():
        errors.append(doc.error(("sla", "profiles"), f"SLA profiles file not found: {s.sla.profiles}"))
    errors.extend(check_bot(doc, s.bot, s.base_dir))
    errors.extend(_check_archive(doc, s))
    errors.extend(check_media(doc, s.media))
    errors.extend(check_welcome(doc, s.channels.webchat.welcome, s.base_dir))
    errors.extend(check_accounts(doc, s.accounts))
    errors.extend(check_webhooks(doc, s.webhooks, s.webhook_delivery))
    rules = s.rules_path()
    if rules is not None and not rules.exists():
        errors.append(doc.error(("routing", "rules"), f"rules file not found: {rules}"))
    return errors


def _check_archive(doc: YamlDoc, s: Settings) -> list[ConfigError]:
    errors: list[ConfigError] = []
    url = s.archive.url
    if url is not None and not re.match(r"^(sqlite|postgresql|postgres)(\+\w+)?://", url):
        errors.append(doc.error(("archive", "url"), "archive.url: expected sqlite:///PATH or "
                                                    "postgresql://USER@HOST:PORT/DB"))
    if s.archive.batch_size < 1:
        errors.append(doc.error(("archive", "batch_size"), "archive.batch_size: expected at least 1"))
    if s.csat.window_s <= 0:
        errors.append(doc.error(("csat", "window_s"), "csat.window_s: expected more than 0"))
    if s.archive.max_tries < 1:
        errors.append(doc.error(("archive", "max_tries"), "archive.max_tries: expected at least 1"))
    r = s.retention
    if r.idempotency_s < 60:
        errors.append(doc.error(("retention", "idempotency_s"), "retention.idempotency_s: expected at least 60"))
    if r.redis_after_close_s < 0 or r.archive_days <= 0 or r.sweep_interval_s <= 0:
        errors.append(doc.error(("retention",), "retention: redis_after_close_s must be at least 0, "
                                                "archive_days and sweep_interval_s more than 0"))
    return errors
