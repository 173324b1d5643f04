"""The values the rule engine reads and returns.

`RuleInput` is everything a decision may depend on; `Decision` is what it yields. Both are frozen
so that a decision is a pure function of its input and the rule-set version, and can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RuleInput:
    """One inbound message with the context a rule may test."""

    text: str
    channel: str
    account: str
    now: datetime
    """Aware datetime of the message; rules convert it to their own timezone."""
    kind: str = "text"
    customer_tags: frozenset[str] = frozenset()
    segment: str = "new"
    """new | returning | vip"""
    language: str | None = None
    """None lets the engine detect it from the text."""
    message_count: int = 1
    """Messages in the conversation so far, this one included."""
    reopened: bool = False
    previous_pool: str | None = None
    product_id: str | None = None
    """The product the customer is looking at on the shop's page (kefu('context', ...)), if any."""
    product_title: str = ""


@dataclass(frozen=True, slots=True)
class FallbackStep:
    """After `after_s` seconds in queue, also offer the conversation to `pool` (None: any agent)."""

    after_s: float
    pool: str | None = None
    min_level: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a conversation goes, and why."""

    pool: str
    priority: int = 0
    """Higher is served first."""
    skills: tuple[str, ...] = ()
    min_level: int = 1
    tags: tuple[str, ...] = ()
    bot_first: bool = False
    fallback: tuple[FallbackStep, ...] = ()
    sla_profile: str | None = None
    intents: tuple[str, ...] = ()
    rule: str | None = None
    """Name of the rule that decided; None when the default applied."""
    version: str = "builtin"
    """The rule-set version that made this decision."""
    explanation: tuple[str, ...] = field(default=())
    """One line per rule evaluated: why it matched or did not."""
    steps: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    """The same lines as codes and parameters (routing_rules/reasons.py), for a reader who words
    them in another language."""
