"""The live rule set: one compiled version at a time, swapped in a single assignment.

A batch takes `holder.current` once, so every message in it is decided by one whole version;
a swap is a reference assignment, atomic within the process. Which version is live is kept in
Redis (router/rules/versions.py) and followed by router/rules/sync.py.
"""

from __future__ import annotations

from kefu_common.yamlpos import read_text
from router.config.settings import Settings
from routing_rules import RuleSet, builtin_default, load_rules


def known_names(settings: Settings) -> tuple[set[str] | None, set[str] | None]:
    """The configured pools and skills a rule may name; None when the config names none."""
    pools = set(settings.pool_ids())
    skills = {s for a in settings.agents for s in a.skills} | {s for p in settings.pools for s in p.skills}
    return pools or None, skills or None


def default_pool(settings: Settings) -> str:
    return settings.routing.default_pool or (settings.pool_ids() or ["general"])[0]


def initial_source(settings: Settings) -> tuple[str, str]:
    """(YAML source, author) of the first version, used when Redis has none yet."""
    path = settings.rules_path()
    if path is not None:
        return read_text(path), f"file:{path}"
    # No rules file: the built-in "everything to one pool", written out so it can be edited.
    source = ("# No rules file was configured: every conversation goes to one pool.\n"
              f"default:\n  pool: {default_pool(settings)}\n")
    return source, "startup"


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
        if path is not None:
            pools, skills = known_names(settings)
            return cls(load_rules(path, pools=pools, skills=skills))
        return cls(builtin_default(default_pool(settings)))
