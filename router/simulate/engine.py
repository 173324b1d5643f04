"""A simulated day on the real assignment scripts: the events are Python's, every routing step is
the Lua the router runs (resolve, route, close), with the virtual clock passed as `now`."""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from router.config.settings import Settings, parse_settings
from router.models import new_id
from router.simulate.erlang import erlang_a
from router.simulate.workload import Draws, Need, SimPlan
from router.store import Store
from router.store.calls.agents import Status
from router.store.calls.routing import Close, Resolve, Route

T0 = 1_800_000_000.0
"""Virtual epoch: the scripts see T0 + simulated seconds."""
NAMESPACE = "sim"


@dataclass
class Chat:
    arrived: float
    need: Need | None
    assigned: float | None = None
    agent: str | None = None
    gone: bool = False


@dataclass
class Hour:
    offered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0


@dataclass
class Outcome:
    chats: dict[str, Chat] = field(default_factory=dict)
    hours: list[Hour] = field(default_factory=list)
    queue: list[tuple[float, int]] = field(default_factory=list)
    """(virtual second, conversations waiting) after every change."""
    busy_s: float = 0.0
    levels: dict[str, dict[str, int]] = field(default_factory=dict)


def settings_for(plan: SimPlan) -> Settings:
    """One pool of identical agents, or the shop's, with the plan's policy and chats per agent."""
    if plan.shop is None:
        agents = "".join(f"  - id: a{i}\n    token: sim-token-{i:06d}\n    pools: [sim]\n"
                         f"    max_chats: {plan.chats_per_agent}\n" for i in range(plan.agents))
        return parse_settings(f"pools:\n  - id: sim\nagents:\n{agents}assignment:\n  policy: {plan.policy}\n"
                              f"  sticky_window_s: 0\n", "<simulate>")
    shop = plan.shop
    seated = tuple(msgspec.structs.replace(a, max_chats=plan.chats_per_agent) if a.max_chats > 0 else a
                   for a in shop.agents)
    return msgspec.structs.replace(
        shop, agents=seated, redis=msgspec.structs.replace(shop.redis, namespace=NAMESPACE),
        assignment=msgspec.structs.replace(shop.assignment, policy=plan.policy, pools={}, sticky_window_s=0))


class Simulation:
    def __init__(self, plan: SimPlan, url: str, progress: Callable[[float], None] | None = None) -> None:
        self.plan = plan
        self.settings = settings_for(plan)
        self.store = Store(url, NAMESPACE)
        self.draws = Draws(plan)
        self.out = Outcome()
        self.progress = progress
        self._events: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()
        self._held: dict[str, set[str]] = {}
        self._waiting = 0

    def _at(self, t: float, kind: str, ref: str = "") -> None:
        heapq.heappush(self._events, (t, next(self._seq), kind, ref))

    async def run(self) -> Outcome:
        await self.store.open()
        try:
            await self.store.forget()  # start from nothing: an earlier run's keys, in this namespace only
            await self.store.sync_config(self.settings)
            takers = [a for a in self.settings.agents if a.max_chats > 0]
            for a in takers:
                await self.store.run(Status(a.id, "online", T0, "simulate"))
                self._held[a.id] = set()
            self.out.levels = {a.id: dict(a.skills) for a in takers}
            end = self.plan.hours * 3600
            self.out.hours = [Hour() for _ in range(max(1, math.ceil(self.plan.hours)))]
            first = self.draws.next_arrival(0.0, end)
            if first is not None:
                self._at(first, "arrive")
            shown = 0.0
            while self._events:
                t, _, kind, ref = heapq.heappop(self._events)
                if kind == "arrive":
                    await self._arrive(t)
                    nxt = self.draws.next_arrival(t, end)
                    if nxt is not None:
                        self._at(nxt, "arrive")
                elif kind == "end":
                    await self._end(t, ref)
                else:
                    await self._give_up(t, ref)
                if self.progress is not None and t - shown >= 600:
                    shown = t
                    self.progress(t)
        finally:
            await self.store.close()
        return self.out

    def _queue_changed(self, t: float, delta: int) -> None:
        self._waiting += delta
        self.out.queue.append((t, self._waiting))

    async def _arrive(self, t: float) -> None:
        need = self.draws.need()
        pool = need.pool if need else "sim"
        skills = [need.skill] if need and need.skill else []
        mid, user = new_id("m"), new_id("u")
        resolved = await self.store.run(Resolve(mid, f"webchat:sim:{user}", new_id("cu"), new_id("c"), T0 + t, 600,
                                                "webchat", "sim", user, ""))
        cid = resolved.cid
        decision = {"pool": pool, "priority": 10, "skills": skills, "sla_profile": None}
        moved = await self.store.run(Route(mid, cid, T0 + t, json.dumps({"id": mid, "text": "在吗"}), pool, 10,
                                           tuple(skills), 1, False, json.dumps(decision), 3600, 0))
        chat = Chat(arrived=t, need=need)
        self.out.chats[cid] = chat
        self._hour(t).offered += 1
        if moved.agent:
            self._start(t, cid, moved.agent)
        else:
            self._queue_changed(t, +1)
            patience = self.draws.patience()
            if math.isfinite(patience):
                self._at(t + patience, "give_up", cid)

    def _start(self, t: float, cid: str, agent: str) -> None:
        chat = self.out.chats[cid]
        chat.assigned, chat.agent = t, agent
        if t - chat.arrived <= self.plan.threshold_s:
            self._hour(chat.arrived).answered_in_time += 1
        self._held[agent].add(cid)
        handle = self.draws.handle()
        self.out.busy_s += max(0.0, min(t + handle, self.plan.hours * 3600) - min(t, self.plan.hours * 3600))
        self._at(t + handle, "end", cid)

    async def _end(self, t: float, cid: str) -> None:
        chat = self.out.chats[cid]
        agent = str(chat.agent)
        await self.store.run(Close(cid, agent, T0 + t, "resolved", True))
        self._held[agent].discard(cid)
        # The close hands the freed seat to whoever waits longest that this agent fits.
        now_held = set(await self.store.agents.conversation_ids(agent))
        for taken in now_held - self._held[agent]:
            self._queue_changed(t, -1)
            self._start(t, taken, agent)

    async def _give_up(self, t: float, cid: str) -> None:
        chat = self.out.chats[cid]
        if chat.assigned is not None:
            return
        chat.gone = True
        self._hour(chat.arrived).abandoned += 1
        self._queue_changed(t, -1)
        await self.store.run(Close(cid, "sim", T0 + t, "abandoned", True))

    def _hour(self, t: float) -> Hour:
        return self.out.hours[min(int(t // 3600), len(self.out.hours) - 1)]


def summary(plan: SimPlan, out: Outcome, seats: int) -> dict[str, Any]:
    """The figures `kefu simulate` prints; `erlang_a_service_level_30s` is the M/M/n+M model for the
    same rates (hour by hour for a trace), exact where handle times are exponential and one pool
    serves everyone."""
    chats = list(out.chats.values())
    offered = len(chats)
    served = [c for c in chats if c.assigned is not None]
    in_time = sum(1 for c in served if c.assigned is not None and c.assigned - c.arrived <= plan.threshold_s)
    waits = [c.assigned - c.arrived for c in served if c.assigned is not None]
    result: dict[str, Any] = {
        "offered": offered,
        "served": len(served),
        "abandoned": sum(1 for c in chats if c.gone),
        "service_level_30s": round(in_time / offered, 4) if offered else None,
        "asa_s": round(sum(waits) / len(waits), 2) if waits else None,
        "occupancy": round(out.busy_s / (seats * plan.hours * 3600), 4) if seats and plan.hours else None,
        "erlang_a_service_level_30s": round(model_service_level(plan, seats), 4),
        "policy": plan.policy,
        "agents": seats // max(1, plan.chats_per_agent),
        "hours": [{"hour": i, "offered": h.offered, "abandoned": h.abandoned,
                   "service_level_30s": round(h.answered_in_time / h.offered, 4) if h.offered else None}
                  for i, h in enumerate(out.hours)],
    }
    if plan.needs:
        skilled = [c for c in served if c.need and c.need.skill]
        best = sum(1 for c in skilled if c.need and out.levels.get(str(c.agent), {}).get(str(c.need.skill), 0)
                   >= c.need.best_level)
        result["best_skilled_share"] = round(best / len(skilled), 4) if skilled else None
    return result


def model_service_level(plan: SimPlan, seats: int) -> float:
    """Erlang-A for the plan's rates: each seat an agent (a chat at a time), patience as given."""
    mu = 1 / plan.handle_s
    theta = 1 / plan.patience_s if plan.patience_s > 0 else 0.0
    rates = [plan.rate_at(h * 3600.0) for h in range(max(1, math.ceil(plan.hours)))]
    total = sum(rates)
    if total <= 0 or seats <= 0:
        return 0.0
    return sum(r * erlang_a(r, mu, theta, seats, plan.threshold_s).service_level for r in rates if r > 0) / total
