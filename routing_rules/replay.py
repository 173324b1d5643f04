"""Replay a decision trace against candidate rules and count what would change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from routing_rules.ruleset import RuleSet
from routing_rules.trace import RecordedDecision, TraceRecord

DEFAULT_LABEL = "(default)"


@dataclass(slots=True)
class ReplayReport:
    """Counts over the replayed records; "old" is the trace's decision or the --old rules."""

    total: int = 0
    skipped: int = 0
    """Records outside --since/--until."""
    pool_changed: int = 0
    priority_changed: int = 0
    bot_changed: int = 0
    any_changed: int = 0
    drift: int = 0
    """With --old rules: records whose recorded decision differs from what the old rules say."""
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    old_fires: Counter[str] = field(default_factory=Counter)
    new_fires: Counter[str] = field(default_factory=Counter)
    old_version: set[str] = field(default_factory=set)
    new_version: str = ""

    def lines(self) -> list[str]:
        """The human-readable summary `kefu rules replay` prints."""
        n = self.total

        def pct(k: int) -> str:
            return f"{k} ({100 * k / n:.1f}%)" if n else str(k)

        out = [
            f"replayed {n} decisions against version {self.new_version}"
            + (f" (skipped {self.skipped} outside the time range)" if self.skipped else ""),
            f"changed pool:        {pct(self.pool_changed)}",
            f"changed priority:    {pct(self.priority_changed)}",
            f"changed bot/human:   {pct(self.bot_changed)}",
            f"changed at all:      {pct(self.any_changed)}",
        ]
        if self.drift:
            out.append(f"note: {self.drift} recorded decisions differ from what --old decides")
        if self.moves:
            out.append("pool moves (old -> new):")
            for (a, b), k in sorted(self.moves.items(), key=lambda kv: (-kv[1], kv[0])):
                out.append(f"  {a} -> {b}: {k}")
        names = sorted(set(self.old_fires) | set(self.new_fires))
        if names:
            width = max(len(x) for x in names)
            out.append(f"rule fires:  {'rule':<{width}}  {'old':>7}  {'new':>7}  {'delta':>7}")
            for name in sorted(names, key=lambda x: (-self.new_fires[x], x)):
                o, w = self.old_fires[name], self.new_fires[name]
                out.append(f"             {name:<{width}}  {o:>7}  {w:>7}  {w - o:>+7}")
        return out


def replay(
    records: Iterable[tuple[int, TraceRecord]],
    new: RuleSet,
    *,
    old: RuleSet | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Decide every record with `new` (and `old`) and count the differences.

    `records` yields (position, record) as `read_trace` does; `progress(position, count)` is
    called after each record so that a caller can draw a bounded bar.
    """
    rep = ReplayReport(new_version=new.version)
    for pos, rec in records:
        if (since and rec.ts < since) or (until and rec.ts >= until):
            rep.skipped += 1
        else:
            _one(rep, rec, new, old)
        if progress:
            progress(pos, rep.total + rep.skipped)
    return rep


def _one(rep: ReplayReport, rec: TraceRecord, new: RuleSet, old: RuleSet | None) -> None:
    before = rec.decision
    if old is not None:
        before = RecordedDecision.of(old.decide(rec.input))
        if (before.pool, before.priority, before.bot_first) != (
            rec.decision.pool,
            rec.decision.priority,
            rec.decision.bot_first,
        ):
            rep.drift += 1
    after = RecordedDecision.of(new.decide(rec.input))
    rep.total += 1
    rep.old_version.add(before.version)
    rep.old_fires[before.rule or DEFAULT_LABEL] += 1
    rep.new_fires[after.rule or DEFAULT_LABEL] += 1
    changed = False
    if before.pool != after.pool:
        rep.pool_changed += 1
        rep.moves[(before.pool, after.pool)] += 1
        changed = True
    if before.priority != after.priority:
        rep.priority_changed += 1
        changed = True
    if before.bot_first != after.bot_first:
        rep.bot_changed += 1
        changed = True
    rep.any_changed += changed
