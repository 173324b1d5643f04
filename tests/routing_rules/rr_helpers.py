"""Shared builders for the routing_rules tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from routing_rules import RuleInput, RuleSet, compile_rules

# Wednesday 2026-11-11 10:00 in Shanghai (02:00 UTC): inside ordinary business hours.
WED_10_SH = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)


def inp(text: str = "你好", **kw: Any) -> RuleInput:
    kw.setdefault("channel", "webchat")
    kw.setdefault("account", "shop")
    kw.setdefault("now", WED_10_SH)
    if "customer_tags" in kw:
        kw["customer_tags"] = frozenset(kw["customer_tags"])
    return RuleInput(text=text, **kw)


def one_rule(when: str, then: str = "{pool: hit}", head: str = "") -> RuleSet:
    """A rule set whose only rule is `when`; decisions land in pool 'hit' or 'miss'."""
    return compile_rules(
        f"{head}\ndefault: {{pool: miss}}\nrules:\n  - name: r\n    when: {when}\n    then: {then}\n"
    )
