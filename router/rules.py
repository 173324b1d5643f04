"""The live rule set: one compiled version at a time, swapped in a single assignment.

A batch takes `holder.current` once, so every message in it is decided by one whole version;
a swap is a reference assignment, atomic within the process.
"""

from __future__ import annotations

from router.settings import Settings
from routing_rules import RuleSet, builtin_default, load_rules


class RulesHolder:
    def __init__(self, ruleset: RuleSet) -> None:
        self._current = ruleset

    @property
    def current(self) -> RuleSet:
        return self._current

    def swap(self, ruleset: RuleSet) -> RuleSet:
        old, self._current = self._current, ruleset
        return old

    @classmethod
    def from_settings(cls, settings: Settings) -> RulesHolder:
        path = settings.rules_path()
        pools = set(settings.pool_ids())
        if path is not None:
            skills = {s for a in settings.agents for s in a.skills}
            return cls(load_rules(path, pools=pools or None, skills=skills or None))
        default = settings.routing.default_pool or (settings.pool_ids() or ["general"])[0]
        return cls(builtin_default(default))
