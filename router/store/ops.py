"""What supervisors read beside conversations: pool queues, handovers, approvals waiting, and the
follow-up tasks SLA timers create."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from router.store.keys import Keys


class PoolQueue(msgspec.Struct, frozen=True, kw_only=True):
    """One pool's queue at a glance."""

    id: str
    queued: int
    free_agents: int
    waiting: tuple[str, ...]
    """The first waiting conversation ids in queue order (at most the number asked for)."""


class Handover(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation handed back when its agent went offline (status.lua writes these)."""

    id: str
    conversation_id: str
    from_agent: str
    pool: str
    to: str | None
    reason: str
    at: float


class OpsRecords:
    """Reads of the supervisor's views, and the task list's one write (marking a task done)."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def pool_queues(self, first: int) -> list[PoolQueue]:
        """Every pool by id, with the first `first` waiting conversations of each."""
        pool_ids = sorted(await self._r.smembers(self._k.pools))
        pipe = self._r.pipeline(transaction=False)
        for pool in pool_ids:
            pipe.zcard(self._k.pool_queue(pool))
            pipe.zrange(self._k.pool_queue(pool), 0, first - 1)
            pipe.zcard(self._k.pool_free(pool))
        rows = await pipe.execute()
        return [PoolQueue(id=pool, queued=rows[3 * i], waiting=tuple(rows[3 * i + 1]), free_agents=rows[3 * i + 2])
                for i, pool in enumerate(pool_ids)]

    async def queue_head(self, pool: str) -> tuple[int, float | None]:
        """How many wait in a pool's queue, and since when its head has waited (None: nobody)."""
        head = await self._r.zrange(self._k.pool_queue(pool), 0, 0)
        depth = await self._r.zcard(self._k.pool_queue(pool))
        queued_at = await self._r.hget(self._k.conv(head[0]), "queued_at") if head else None
        return int(depth), float(queued_at) if queued_at else None

    async def approvals_pending(self) -> int:
        return int(await self._r.zcard(self._k.approvals_pending))

    async def pending_approval_ids(self, count: int) -> list[str]:
        """The `count` oldest approvals waiting for a supervisor, oldest first."""
        ids: list[str] = await self._r.zrange(self._k.approvals_pending, 0, count - 1)
        return ids

    async def approvals(self, ids: list[str]) -> list[dict[str, str]]:
        """The approvals' hashes (those that exist), in the order asked."""
        if not ids:
            return []
        pipe = self._r.pipeline(transaction=False)
        for apid in ids:
            pipe.hgetall(self._k.approval(apid))
        rows: list[dict[str, str]] = await pipe.execute()
        return [r for r in rows if r]

    async def handovers(self, since: float, count: int) -> list[Handover]:
        """Newest first, from `since` (epoch s) on."""
        entries = await self._r.xrevrange(self._k.handovers, min=f"{int(since * 1000)}", count=count)
        return [Handover(id=eid, conversation_id=f["conversation_id"], from_agent=f["from"], pool=f["pool"],
                         to=f.get("to") or None, reason=f["reason"], at=float(f["at"]))
                for eid, f in entries]

    async def claim_shift_edge(self, shift: str, day: str, edge: str, at: float, ttl_s: int) -> bool:
        """True for the one process that gets to act on a shift's start or end on one date."""
        return bool(await self._r.set(self._k.shift_edge(shift, day, edge), str(at), nx=True, ex=ttl_s))

    async def replace_sla_profiles(self, profiles: dict[str, str]) -> None:
        """Make Redis hold exactly these SLA profiles (name -> JSON), in one transaction."""
        pipe = self._r.pipeline(transaction=True)
        pipe.delete(self._k.sla_profiles)
        if profiles:
            pipe.hset(self._k.sla_profiles, mapping=profiles)
        await pipe.execute()

    async def tasks(self, count: int) -> list[dict[str, Any]]:
        """The `count` newest follow-up tasks (JSON records, see sla_fire.lua)."""
        ids = await self._r.zrevrange(self._k.tasks_index, 0, count - 1)
        raw = await self._r.hmget(self._k.tasks, ids) if ids else []
        return [json.loads(t) for t in raw if t]

    async def task(self, tid: str) -> dict[str, Any] | None:
        raw = await self._r.hget(self._k.tasks, tid)
        return json.loads(raw) if raw is not None else None

    async def save_task(self, tid: str, task: dict[str, Any]) -> None:
        await self._r.hset(self._k.tasks, tid, json.dumps(task, ensure_ascii=False))
