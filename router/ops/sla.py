"""SLA timers and escalation: the clocks a routing decision's `sla_profile` starts.

Profiles come from YAML (router/ops/sla_profiles.py) and are synced to Redis at start. The clocks run
in the Lua scripts (router/store/lua/sla_lib.lua), so they change together with the conversation:

- route.lua starts them when a conversation is queued for a human: first response, resolution,
  escalation and follow-up timers, and one timer per rung of the decision's fallback ladder;
- a customer message after the first answer starts the next-response clock;
- reply.lua meets the first or next response (agent frame `sla` event `met`);
- close.lua meets the resolution and stops every clock except follow-ups.

When a timer fires (router/pipeline/timers.py), sla_fire.lua acts, once:

- at `warn_at` of a target: frame `sla` event `warning` to the assigned agent;
- first response missed: hand the conversation to another free eligible agent, else keep it and
  mark it breached (event `breached`);
- escalation (`escalate.after`, or a breach listed in `escalate.on_breach`): to the front of the
  supervisors' pool queue unless a member already has it, and event `escalated` to every
  supervisor who is not offline;
- follow-up: a task in the stored task list (GET /api/v1/tasks), and a `task` frame to
  supervisors;
- fallback rung: a conversation still queued is also offered to the rung's pool (or every pool),
  at the rung's level; the first agent to take it wins and it leaves every queue.

A profile's `promise` is told to the customer once, by a `promise` timer that router/ops/promises.py
handles.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from kefu_common.errors import ConfigError, ConfigErrors
from router.config.files import config_file
from router.config.settings import Settings
from router.ops.sla_profiles import load_profiles
from router.store import Store
from router.store.calls.background import SlaFire
from routing_rules import RuleSet

log = logging.getLogger("kefu.sla")

TIMER_KINDS = ("fallback", "first_response", "first_response_warn", "next_response", "next_response_warn",
               "resolution", "resolution_warn", "escalate", "follow_up", "wake")


def profiles_path(settings: Settings) -> Path | None:
    if settings.sla.profiles:
        p = Path(settings.sla.profiles)
        return p if p.is_absolute() else Path(settings.base_dir) / p
    return config_file("sla.yaml")


def check_rules(ruleset: RuleSet, profiles: Collection[str]) -> list[ConfigError]:
    """Every `sla:` a rule names must be a profile, or its conversations would run no clock."""
    errors = []
    known = ", ".join(sorted(profiles)) or "none"
    if ruleset.default.sla_profile and ruleset.default.sla_profile not in profiles:
        errors.append(ConfigError(f"default names SLA profile {ruleset.default.sla_profile!r}, which is not "
                                  f"defined; profiles are: {known}", ruleset.file))
    for rule in ruleset.rules:
        name = rule.action.sla_profile if rule.action else None
        if name and name not in profiles:
            errors.append(ConfigError(f"rule {rule.name!r} names SLA profile {name!r}, which is not defined; "
                                      f"profiles are: {known}", ruleset.file, rule.line or 1, 1))
    return errors


class SlaService:
    """Loads and syncs the profiles, and fires SLA and fallback timers."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        path = profiles_path(settings)
        self.profiles = load_profiles(path) if path is not None else {}
        self.fired: dict[str, int] = {}

    def check(self, ruleset: RuleSet) -> None:
        errors = check_rules(ruleset, self.profiles)
        if errors:
            raise ConfigErrors(errors)

    async def sync(self) -> None:
        """Make Redis hold exactly these profiles (the last process to start wins, as for agents)."""
        await self.store.ops.replace_sla_profiles({n: json.dumps(p.to_json()) for n, p in self.profiles.items()})

    async def fire(self, tid: str, data: dict[str, Any], now: float) -> None:
        kind = str(data.get("kind"))
        fired = await self.store.run(SlaFire(tid, kind, str(data.get("cid")), int(data.get("n") or 0), now))
        outcome, detail = fired.outcome, fired.detail
        if outcome != "noop":
            log.info("timer %s (%s): %s %s", tid, kind, outcome, detail)
        self.fired[outcome] = self.fired.get(outcome, 0) + 1

