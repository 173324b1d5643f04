"""What the simulated day offers: arrivals, handle times, patience, and each chat's need."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kefu_common.errors import ConfigError
from router.config.settings import Settings
from router.pipeline.assignment import Policy

HandleDist = Literal["exp", "lognormal"]


@dataclass(frozen=True)
class Need:
    pool: str
    skill: str | None
    best_level: int
    """The highest level of `skill` among the pool's agents: who counts as the best-skilled."""


@dataclass(frozen=True)
class SimPlan:
    agents: int = 10
    arrivals_per_hour: float = 200.0
    handle_s: float = 180.0
    handle_dist: HandleDist = "exp"
    handle_cv: float = 1.0
    """Log-normal handle times: standard deviation over mean."""
    patience_s: float = 120.0
    """Mean of an exponential patience; 0: nobody gives up."""
    hours: float = 8.0
    policy: Policy = "least_loaded"
    chats_per_agent: int = 1
    trace: tuple[float, ...] = ()
    """Arrivals in each hour (hour 0, 1, ...), replacing `arrivals_per_hour`; cycles past its end."""
    threshold_s: float = 30.0
    seed: int = 1
    shop: Settings | None = None
    """A shop's config (`--skills FILE`): its pools, agents and skills instead of one pool."""
    needs: tuple[Need, ...] = field(default=())

    def rate_at(self, t: float) -> float:
        """Arrivals per second at virtual second t."""
        if self.trace:
            return self.trace[int(t // 3600) % len(self.trace)] / 3600
        return self.arrivals_per_hour / 3600


class Draws:
    """The random parts, from one seed, so a run can be repeated."""

    def __init__(self, plan: SimPlan) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed)
        cv = plan.handle_cv
        self._sigma = math.sqrt(math.log(1 + cv * cv))
        self._mu = math.log(plan.handle_s) - self._sigma ** 2 / 2

    def next_arrival(self, t: float, end: float) -> float | None:
        """The next Poisson arrival after t, with the rate constant within each hour."""
        while t < end:
            rate = self.plan.rate_at(t)
            boundary = min(end, (t // 3600 + 1) * 3600)
            if rate <= 0:
                t = boundary
                continue
            nxt = t + self.rng.expovariate(rate)
            if nxt < boundary:
                return nxt
            t = boundary  # memoryless: start again at the hour's edge with its new rate
        return None

    def handle(self) -> float:
        if self.plan.handle_dist == "lognormal":
            return self.rng.lognormvariate(self._mu, self._sigma)
        return self.rng.expovariate(1 / self.plan.handle_s)

    def patience(self) -> float:
        return self.rng.expovariate(1 / self.plan.patience_s) if self.plan.patience_s > 0 else math.inf

    def need(self) -> Need | None:
        return self.rng.choice(self.plan.needs) if self.plan.needs else None


def shop_needs(settings: Settings) -> tuple[Need, ...]:
    """One need per pool that has agents taking chats: the skill most of its agents hold."""
    out = []
    for pool in settings.pool_ids():
        members = [a for a in settings.agents if pool in a.pools and a.max_chats > 0]
        if not members:
            continue
        held = Counter(s for a in members for s in a.skills)
        skill = held.most_common(1)[0][0] if held else None
        best = max((a.skills.get(skill, 0) for a in members), default=0) if skill else 0
        out.append(Need(pool, skill, best))
    return tuple(out)


def read_trace(path: str | Path) -> tuple[float, ...]:
    """An hourly shape: one number of arrivals per line (hour 0 first), or a JSON list."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the trace: {exc.strerror}", str(p)) from None
    if text.lstrip().startswith("["):
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"not a JSON list of numbers: {exc}", str(p)) from None
        if not isinstance(values, list):
            raise ConfigError("expected a JSON list of arrivals per hour", str(p))
        rows = [(1, v) for v in values]
    else:
        rows = [(i + 1, line.split("#")[0].strip()) for i, line in enumerate(text.splitlines())]
        rows = [(n, v) for n, v in rows if v != ""]
    out = []
    for line, v in rows:
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"expected arrivals in an hour (a number), got {v!r}", str(p), line) from None
        if x < 0 or math.isnan(x) or math.isinf(x):
            raise ConfigError(f"arrivals must be a number >= 0, got {v!r}", str(p), line)
        out.append(x)
    if not out:
        raise ConfigError("the trace has no hours", str(p))
    return tuple(out)
