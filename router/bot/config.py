"""The `bot:` section of the router's config: knowledge files, order service, hours, timing.

Relative paths are resolved against the config file's directory; a path left out falls back to
the file shipped in config/ (FAQ, quick replies, compliance), or to none (orders, hours).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import msgspec

from kefu_common.errors import ConfigError
from kefu_common.yamlpos import YamlDoc
from router.bot.hours import BusinessHours
from router.bot.llm import LlmSettings
from router.config.files import config_file


class _Part(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class HoursSettings(_Part, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """When agents are in; outside these hours the bot says when they are back."""

    timezone: str = "Asia/Shanghai"
    days: str | list[str] = "all"
    hours: str | list[str] = "09:00-22:00"
    closed: list[str] = msgspec.field(default_factory=list)
    """Dates (YYYY-MM-DD) with nobody in, e.g. public holidays."""


class BotSettings(_Part, frozen=True, forbid_unknown_fields=True, kw_only=True):
    enabled: bool = True
    """Off: rules that say `bot: true` route to people as if they did not."""
    faq: str | None = None
    quick_replies: str | None = None
    compliance: str | None = None
    compliance_mode: Literal["warn", "block"] | None = None
    """Overrides the compliance file's mode."""
    faq_threshold: float | None = None
    orders: str | None = None
    """Demo-style YAML order file read by FileOrderService."""
    order_service: str | None = None
    """Your own OrderService as "package.module:Class"; takes `order_service_args`."""
    order_service_args: dict[str, str] = msgspec.field(default_factory=dict)
    products: str | None = None
    """Demo-style YAML product stock file read by FileProductService."""
    product_service: str | None = None
    """Your own ProductService as "package.module:Class"; takes `product_service_args`."""
    product_service_args: dict[str, str] = msgspec.field(default_factory=dict)
    order_id_pattern: str | None = None
    """Regular expression of the shop's order numbers."""
    debounce_s: float = 1.5
    """Lines a customer sends within this many seconds of each other are one turn."""
    max_unanswered: int = 1
    """Turns in a row the FAQ cannot answer before a person takes over. 1 (the default) hands on at
    once, with what the bot learned; 2 or more first ask the customer to put it another way."""
    idle_close_s: float = 1800.0
    """A bot conversation quiet this long is closed as resolved by the bot."""
    aftersale_pool: str | None = "aftersale"
    """Where after-sale handoffs go (cancellations, refunds, returns) when that pool exists."""
    hours: HoursSettings | None = None
    """Business hours; none means always open."""
    llm: LlmSettings | None = None
    """An OpenAI-compatible model behind the FAQ and for the agents' copilot (router/bot/llm.py)."""
    reload_s: float = 2.0
    """How often the FAQ, quick-reply and compliance files are checked for changes."""


def resolve(base_dir: str, value: str | None, shipped: str | None = None) -> Path | None:
    """A configured path against the config's directory, else the file shipped in config/."""
    if value:
        p = Path(value)
        return p if p.is_absolute() else Path(base_dir) / p
    if shipped is None:
        return None
    return config_file(shipped)


def check_bot(doc: YamlDoc, s: BotSettings, base_dir: str) -> list[ConfigError]:
    """What types cannot say about the bot section: patterns, hours, files, ranges."""
    errors: list[ConfigError] = []
    if s.order_id_pattern:
        try:
            re.compile(s.order_id_pattern)
        except re.error as exc:
            errors.append(doc.error(("bot", "order_id_pattern"), f"bot.order_id_pattern: {exc}"))
    if s.hours is not None:
        try:
            BusinessHours.from_settings(s.hours)
        except ValueError as exc:
            errors.append(doc.error(("bot", "hours"), f"bot.hours: {exc}"))
    for key in ("faq", "quick_replies", "compliance", "orders", "products"):
        path = resolve(base_dir, getattr(s, key))
        if path is not None and not path.exists():
            errors.append(doc.error(("bot", key), f"bot.{key}: file not found: {path}"))
    if s.debounce_s < 0 or s.debounce_s > 60:
        errors.append(doc.error(("bot", "debounce_s"), "bot.debounce_s: expected 0 to 60 seconds"))
    if s.max_unanswered < 1:
        errors.append(doc.error(("bot", "max_unanswered"), "bot.max_unanswered: expected at least 1"))
    if s.llm is not None and not 0.5 <= s.llm.timeout_s <= 60:
        errors.append(doc.error(("bot", "llm", "timeout_s"), "bot.llm.timeout_s: expected 0.5 to 60 seconds"))
    if s.llm is not None and not s.llm.base_url.startswith(("http://", "https://")):
        errors.append(doc.error(("bot", "llm", "base_url"), "bot.llm.base_url: expected an http(s) URL"))
    if s.faq_threshold is not None and not 0 <= s.faq_threshold <= 1:
        errors.append(doc.error(("bot", "faq_threshold"), "bot.faq_threshold: expected 0 to 1"))
    return errors
