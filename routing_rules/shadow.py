"""Which rules can never fire because an earlier deciding rule always catches them first.

Sound, not complete: a rule L is reported only when an earlier non-continue rule E provably
matches every message L matches. Each rule's `when` is read as a conjunction of atoms
(nested `all` and multi-key mappings are flattened; `any` and `not` stay whole atoms). E shadows L
when every atom of E is implied by some atom of L:

- equal atoms (same canonical key), including identical `any`/`not` subtrees;
- a one-of (channel, segment, ...) or any-of (intent, tag) whose values are a subset of E's;
- `contains` whose every word contains one of E's words as a substring ("退款进度" implies "退款");
- `days` that are a subset, and `message_count` ranges that are nested.

Anything else (overlapping time windows, regexes, reasoning across atoms) is not attempted, so a
dead rule can go unreported, but a reported one is dead.
"""

from __future__ import annotations

import math

from routing_rules.conditions import All, Compare, Cond, Contains, DaysIn, OneOf, SetAny
from routing_rules.ruleset import Rule


def conjuncts(cond: Cond | None) -> list[Cond]:
    """The atoms whose conjunction is `cond` ([] means always true)."""
    if cond is None:
        return []
    if isinstance(cond, All):
        return [a for c in cond.written for a in conjuncts(c)]
    return [cond]


def _interval(c: Compare) -> tuple[float, float] | None:
    v = c.value
    return {
        "==": (v, v), ">=": (v, math.inf), ">": (v + 1, math.inf),
        "<=": (-math.inf, v), "<": (-math.inf, v - 1),
    }.get(c.op)


def implies(a: Cond, b: Cond) -> bool:
    """True only when atom `a` holding guarantees atom `b` holds."""
    if a.key == b.key:
        return True
    if isinstance(a, OneOf) and isinstance(b, OneOf):
        return a.label == b.label and a.values <= b.values
    if isinstance(a, SetAny) and isinstance(b, SetAny) and a.label == b.label:
        if not b.need_all:
            # a holds => some (a any-of) or every (a all-of) value of a is present.
            return a.values <= b.values if not a.need_all else not a.values.isdisjoint(b.values)
        return a.need_all and b.values <= a.values
    if isinstance(a, Contains) and isinstance(b, Contains):
        if not b.need_all:
            covered = [any(e in w for e in b.words) for w in a.words]
            return any(covered) if a.need_all else all(covered)
        return a.need_all and all(any(e in w for w in a.words) for e in b.words)
    if isinstance(a, DaysIn) and isinstance(b, DaysIn):
        return a.days <= b.days
    if isinstance(a, Compare) and isinstance(b, Compare) and a.label == b.label:
        ia, ib = _interval(a), _interval(b)
        return ia is not None and ib is not None and ib[0] <= ia[0] and ia[1] <= ib[1]
    return False


def shadows(earlier: Rule, later: Rule) -> bool:
    """True when `earlier` decides every message that `later` would match."""
    if earlier.is_continue:
        return False
    later_atoms = conjuncts(later.cond)
    return all(any(implies(a, e) for a in later_atoms) for e in conjuncts(earlier.cond))


def find_shadowed(rules: tuple[Rule, ...]) -> list[tuple[Rule, Rule]]:
    """(shadowed rule, first earlier rule that shadows it), in file order."""
    out = []
    for j, later in enumerate(rules):
        for earlier in rules[:j]:
            if shadows(earlier, later):
                out.append((later, earlier))
                break
    return out
