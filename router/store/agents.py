"""Agents as the API and the socket read them: live status, load and cap, their open
conversations, their event stream and their presence across processes."""

from __future__ import annotations

import json
import time
from typing import Any

from router.models import Agent, AgentStatus, Role
from router.store.keys import Keys


def agent(d: dict[str, str], override: str | None, away: dict[str, str] | None = None,
          now: float | None = None) -> Agent:
    """`max_chats` is the cap in force: a supervisor's live override, else the config's.
    `away` is today's seconds per away reason (keys.agent_away_time); the span still running
    is added, so a supervisor sees it grow."""
    status = AgentStatus(d.get("status") or AgentStatus.OFFLINE)
    since = float(d.get("status_at") or 0)
    reason = d.get("away_reason") or ""
    today = {k: round(float(v), 1) for k, v in (away or {}).items()}
    if status is AgentStatus.AWAY and since and now is not None and time.gmtime(since)[:3] == time.gmtime(now)[:3]:
        key = reason or "away"
        today[key] = round(today.get(key, 0.0) + max(0.0, now - since), 1)
    return Agent(
        id=d.get("id") or "", name=d.get("name") or "", role=Role(d.get("role") or Role.AGENT),
        status=status, away_reason=reason if status is AgentStatus.AWAY else "", status_since=since,
        away_today=today,
        max_chats=int(d.get("cap") or 0), cap_configured=int(d.get("cap_config") or d.get("cap") or 0),
        cap_override=int(override) if override is not None else None, load=int(d.get("load") or 0),
        pools=tuple(json.loads(d.get("pools") or "[]")), skills=json.loads(d.get("skills") or "{}"),
        disabled=d.get("disabled") == "1", avatar=d.get("avatar") or "",
    )


class Agents:
    """Reads of agents and the small writes that are theirs alone (presence)."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self._r = client
        self._k = keys

    async def get(self, aid: str) -> Agent | None:
        now = time.time()
        pipe = self._r.pipeline(transaction=False)
        pipe.hgetall(self._k.agent(aid))
        pipe.hget(self._k.cap_overrides, aid)
        pipe.hgetall(self._k.agent_away_time(aid, _day(now)))
        data, override, away = await pipe.execute()
        return agent(data, override, away, now) if data else None

    async def all(self) -> list[Agent]:
        """Every configured agent, by id, with today's time away per reason."""
        ids = sorted(await self._r.smembers(self._k.agents))
        now = time.time()
        pipe = self._r.pipeline(transaction=False)
        pipe.hgetall(self._k.cap_overrides)
        for aid in ids:
            pipe.hgetall(self._k.agent(aid))
            pipe.hgetall(self._k.agent_away_time(aid, _day(now)))
        overrides, *rows = await pipe.execute()
        return [agent(r, overrides.get(r.get("id")), away, now)
                for r, away in zip(rows[::2], rows[1::2], strict=True) if r]

    async def name(self, aid: str) -> str:
        """The agent's display name, or the id when none is set."""
        return str(await self._r.hget(self._k.agent(aid), "name") or aid)

    async def face(self, aid: str) -> tuple[str, str]:
        """The agent's display name (the id when none is set) and picture URL ('' when none)."""
        name, avatar = await self._r.hmget(self._k.agent(aid), "name", "avatar")
        return str(name or aid), str(avatar or "")

    async def set_avatar(self, aid: str, url: str) -> str:
        """Make `url` the agent's picture ('' removes it); returns the one it replaced. One
        transaction, so of two uploads at once each learns the picture it really replaced."""
        pipe = self._r.pipeline(transaction=True)
        pipe.hget(self._k.agent(aid), "avatar")
        if url:
            pipe.hset(self._k.agent(aid), "avatar", url)
        else:
            pipe.hdel(self._k.agent(aid), "avatar")
        before, _ = await pipe.execute()
        return str(before or "")

    async def conversation_ids(self, aid: str) -> list[str]:
        """The agent's open conversations, sorted by id."""
        return sorted(await self._r.smembers(self._k.agent_convs(aid)))

    async def latest_event_id(self, aid: str) -> str | None:
        latest = await self._r.xrevrange(self._k.agent_events(aid), count=1)
        return str(latest[0][0]) if latest else None

    async def events_after(self, aid: str, after: str, count: int) -> list[tuple[str, str]]:
        """(event id, frame JSON) of the agent's events after `after`, oldest first."""
        entries = await self._r.xrange(self._k.agent_events(aid), min=f"({after}", count=count)
        return [(eid, fields["f"]) for eid, fields in entries]

    async def mark_present(self, aid: str, conn_id: str, until: float) -> None:
        """One console connection is alive until `until` (epoch s); refreshed while it lasts."""
        await self._r.hset(self._k.agent_presence(aid), conn_id, until)

    async def mark_gone(self, aid: str, *conn_ids: str) -> None:
        if conn_ids:
            await self._r.hdel(self._k.agent_presence(aid), *conn_ids)

    async def presence(self, aid: str) -> dict[str, float]:
        """Connection id -> until when it counts as alive, across every process."""
        raw: dict[str, str] = await self._r.hgetall(self._k.agent_presence(aid))
        return {conn: float(until) for conn, until in raw.items()}


def _day(now: float) -> str:
    """The UTC day time away is counted under (router/ops/presence.py writes with the same)."""
    return time.strftime("%Y-%m-%d", time.gmtime(now))
