"""A compiled rule set: ordered rules, the default, and the pure `decide` / `explain`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from routing_rules.conditions import Cond, Facts
from routing_rules.intents import IntentTable, builtin_table
from routing_rules.model import Decision, FallbackStep, RuleInput
from routing_rules.reasons import step
from routing_rules.regex import RegexBank

PRIORITY_NAMES = {"low": 0, "normal": 10, "high": 20, "urgent": 30}
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class Action:
    """Everything a deciding rule (or the default) sets, already merged with the default."""

    pool: str
    priority: int = PRIORITY_NAMES["normal"]
    skills: tuple[str, ...] = ()
    min_level: int = 1
    bot_first: bool = False
    fallback: tuple[FallbackStep, ...] = ()
    sla_profile: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule. A continue rule has no `action`; it only adds tags and boost."""

    name: str
    cond: Cond | None
    action: Action | None
    tags: tuple[str, ...] = ()
    boost: int = 0
    line: int = 0
    index: int = -1
    """Position in the file's `rules` list (disabled rules keep their slot)."""

    @property
    def is_continue(self) -> bool:
        return self.action is None


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


class RuleSet:
    """Rules compiled once per version; `decide` never looks at YAML again."""

    __slots__ = (
        "_bank", "_table", "_tz", "default", "file", "rules", "timezone", "version",
    )

    def __init__(
        self,
        rules: tuple[Rule, ...],
        default: Action,
        *,
        version: str,
        timezone: str = DEFAULT_TIMEZONE,
        table: IntentTable | None = None,
        file: str = "<rules>",
        bank: RegexBank | None = None,
    ) -> None:
        self.rules = rules
        self.default = default
        self.version = version
        self.timezone = timezone
        self.file = file
        self._tz: tzinfo = ZoneInfo(timezone)
        self._table = table or builtin_table()
        self._bank = bank

    @property
    def pools(self) -> frozenset[str]:
        """Every pool a decision or fallback step of this rule set can name."""
        out = set()
        for action in [self.default, *(r.action for r in self.rules if r.action)]:
            out.add(action.pool)
            out.update(s.pool for s in action.fallback if s.pool is not None)
        return frozenset(out)

    @property
    def intent_names(self) -> tuple[str, ...]:
        return self._table.names

    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)

    def decide(self, inp: RuleInput) -> Decision:
        """The decision for one message; explanation holds only what held for matched rules."""
        return self._run(inp, explain=False)

    def explain(self, inp: RuleInput) -> Decision:
        """Same decision as `decide`, plus one line per earlier rule saying why it missed."""
        return self._run(inp, explain=True)

    def _run(self, inp: RuleInput, *, explain: bool) -> Decision:
        f = Facts(inp, self._table, self._tz, self._bank)
        seen: list[tuple[Rule, bool]] = []
        decider: Rule | None = None
        for rule in self.rules:
            cond = rule.cond
            if cond is None or cond.test(f):
                seen.append((rule, True))
                if rule.action is not None:
                    decider = rule
                    break
            elif explain:
                seen.append((rule, False))
        action = decider.action if decider and decider.action else self.default
        tags: list[str] = []
        boost = 0
        lines: list[str] = []
        steps: list[dict[str, Any]] = []
        for rule, held in seen:
            if held or explain:  # what `decide` already words in `lines`, and no more
                outcome = "missed" if not held else "matched" if rule.is_continue else "decided"
                steps.append(step(rule.name, outcome, rule.cond, f, held))
                if held and rule.is_continue:
                    steps[-1].update(boost=rule.boost, tags=list(rule.tags))
            if not held:
                assert rule.cond is not None
                lines.append(f"rule {rule.name!r} did not match: {rule.cond.why(f, False)}")
                continue
            tags.extend(rule.tags)
            boost += rule.boost
            what = rule.cond.why(f, True) if rule.cond is not None else "always (no conditions)"
            if rule.is_continue:
                extra = f"boost {rule.boost:+d}" if rule.boost else "no boost"
                if rule.tags:
                    extra += f", tags {', '.join(rule.tags)}"
                lines.append(f"rule {rule.name!r} matched (continue; {extra}): {what}")
            else:
                lines.append(f"rule {rule.name!r} decided: {what}")
        if decider is None:
            lines.append(f"no rule decided: default applies (pool {action.pool!r})")
            steps.append({"rule": None, "outcome": "default", "pool": action.pool})
        tags.extend(action.tags)
        return Decision(
            pool=action.pool,
            priority=action.priority + boost,
            skills=action.skills,
            min_level=action.min_level,
            tags=_dedupe(tags),
            bot_first=action.bot_first,
            fallback=action.fallback,
            sla_profile=action.sla_profile,
            intents=tuple(n for n in self._table.names if n in f.intents),
            rule=decider.name if decider else None,
            version=self.version,
            explanation=tuple(lines),
            steps=tuple(steps),
        )


def builtin_default(pool: str) -> RuleSet:
    """The rule set used when no rules file is configured: everything goes to `pool`."""
    return RuleSet((), Action(pool=pool), version="builtin")
