"""Assignment settings: which policy chooses agents, stickiness, queue aging, weighted load.

The choice itself runs in Lua (router/store/lua/policy.lua) so that it and the load change are one
atomic step. The scripts read these settings from one Redis hash that every process writes at
start, so all processes sharing a Redis choose the same way. docs/assignment.md explains them.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from kefu_common.errors import ConfigError
from kefu_common.yamlpos import YamlDoc

Policy = Literal["least_loaded", "round_robin", "longest_idle"]
POLICIES: tuple[Policy, ...] = ("least_loaded", "round_robin", "longest_idle")


class WeightedLoadSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    enabled: bool = False
    after_s: float = 600.0
    """A conversation waiting on the customer longer than this counts as `fraction` of a slot."""
    fraction: float = 0.5


class AssignmentSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    policy: Policy = "least_loaded"
    pools: dict[str, Policy] = msgspec.field(default_factory=dict)
    """Per-pool policy, overriding `policy`."""
    sticky_window_s: float = 48 * 3600.0
    """A returning customer goes to their last agent within this window, if that agent can take them; 0 = off."""
    aging_s_per_priority: float = 6.0
    """Seconds of waiting one priority point is worth; 0 = strict priority, then arrival."""
    weighted_load: WeightedLoadSettings = WeightedLoadSettings()
    record_candidates: int = 20
    """How many candidates a conversation's decision record lists."""

    def redis_fields(self) -> dict[str, str]:
        """The settings hash the Lua scripts read (names as in policy.lua's ASSIGN_DEFAULTS);
        Store.sync_config writes it."""
        out = {
            "policy": self.policy,
            "sticky_s": repr(float(self.sticky_window_s)),
            "aging_s": repr(float(self.aging_s_per_priority)),
            "weighted": "1" if self.weighted_load.enabled else "0",
            "weight_after_s": repr(float(self.weighted_load.after_s)),
            "weight_fraction": repr(float(self.weighted_load.fraction)),
            "record_limit": str(self.record_candidates),
        }
        out.update({f"policy:{pool}": policy for pool, policy in self.pools.items()})
        return out


def check(doc: YamlDoc, a: AssignmentSettings, pool_ids: set[str]) -> list[ConfigError]:
    """Ranges and pool references; types and policy names are checked by msgspec."""
    errors: list[ConfigError] = []
    where = ("assignment",)
    if a.sticky_window_s < 0:
        errors.append(doc.error((*where, "sticky_window_s"), "assignment.sticky_window_s: expected 0 or more"))
    if a.aging_s_per_priority < 0:
        errors.append(doc.error((*where, "aging_s_per_priority"),
                                "assignment.aging_s_per_priority: expected 0 or more"))
    if not 1 <= a.record_candidates <= 100:
        errors.append(doc.error((*where, "record_candidates"), "assignment.record_candidates: expected 1 to 100"))
    w = a.weighted_load
    if w.after_s < 0:
        errors.append(doc.error((*where, "weighted_load", "after_s"),
                                "assignment.weighted_load.after_s: expected 0 or more"))
    if not 0 <= w.fraction <= 1:
        errors.append(doc.error((*where, "weighted_load", "fraction"),
                                "assignment.weighted_load.fraction: expected 0 to 1"))
    for pool in a.pools:
        if pool not in pool_ids:
            known = ", ".join(sorted(pool_ids)) or "none"
            errors.append(doc.error((*where, "pools", pool), f"unknown pool {pool!r}; pools are: {known}", key=True))
    return errors
