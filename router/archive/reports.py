"""Reports over the archive: the summary and the per-conversation export (docs/archive.md).

Counts and sums run in SQL on the indexed `created` range; percentiles are computed here from
the range's values, which both databases return in one indexed scan.

The summary adds live figures from Redis: the conversations the archive does not hold yet (open
ones, closed ones still in the archive queue, reopened ones), read as the archive would write
them. A live conversation replaces its older archive row, so nothing counts twice.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from router.archive import reports_pg
from router.archive.schema import conversations
from router.archive.snapshot import take
from router.store import Store

LIVE_MAX = 20_000
"""Conversations at most that the summary reads from Redis (the newest updated): what the archive
lacks is what is open or closed seconds ago, far fewer on any shop's day."""

EXPORT_COLUMNS = ("id", "customer_id", "channel", "account", "pool", "agent", "created", "queued_at",
                  "assigned_at", "first_reply_at", "closed_at", "resolution", "reopened", "messages_in",
                  "messages_out", "first_response_s", "resolution_s", "sla_breaches", "bot_outcome", "csat_rating",
                  "csat_comment")


def _where(since: float, until: float, pool: str | None, agent: str | None, channel: str | None) -> list[Any]:
    c = conversations.c
    cond: list[Any] = [c.created >= since, c.created < until]
    if pool:
        cond.append(c.pool == pool)
    if agent:
        cond.append(c.agent == agent)
    if channel:
        cond.append(c.channel == channel)
    return cond


FIRST_RESPONSE_BUCKETS = (15, 30, 60, 120, 300, 600, 1800)
"""Upper edges (seconds, inclusive) of the first-response distribution; a last bucket holds the rest."""


def histogram(values: list[float], edges: tuple[int, ...] = FIRST_RESPONSE_BUCKETS) -> list[dict[str, Any]]:
    """Counts per bucket: [{"le": 15, "count": n}, ..., {"le": None, "count": n}] (None: above the last edge)."""
    counts = [0] * (len(edges) + 1)
    for v in values:
        counts[bisect.bisect_left(edges, v)] += 1
    return [{"le": le, "count": n} for le, n in zip((*edges, None), counts, strict=True)]


def pct(values: list[float], p: float) -> float | None:
    """The nearest-rank percentile: the smallest value at least `p`% of them do not exceed
    (PostgreSQL's percentile_disc, which router/archive/reports_pg.py uses)."""
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))
    return round(values[k], 3)


async def live_rows(store: Store, since: float, until: float) -> list[dict[str, Any]]:
    """Conversations created in [since, until) whose latest state only Redis holds, as archive
    rows (open ones without a close or resolution time)."""
    out = []
    for cid in await store.archive.unarchived_since(since, LIVE_MAX):
        snap = await take(store, cid, live=True)
        if snap is not None and since <= snap.row["created"] < until:
            out.append(snap.row)
    return out


async def summary(conn: AsyncConnection, since: float, until: float, pool: str | None = None,
                  agent: str | None = None, channel: str | None = None,
                  live: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    newer = {r["id"] for r in live}
    wanted = {"pool": pool, "agent": agent, "channel": channel}
    fresh = [r for r in live if all(not v or r[k] == v for k, v in wanted.items())]
    if conn.dialect.name == "postgresql":
        out = await reports_pg.summary(conn, since, until, wanted, fresh, newer, FIRST_RESPONSE_BUCKETS)
        if "by" not in out or "first_response_hist" not in out:
            out = {**_figures([]), "first_response_hist": histogram([]), "by": out.get("by", {})}
        return {**out, "live": len(fresh)}
    c = conversations.c
    cond = _where(since, until, pool, agent, channel)
    archived = (await conn.execute(sa.select(
        c.id, c.pool, c.agent, c.channel, c.created, c.messages_in, c.messages_out, c.first_response_s,
        c.resolution_s, c.sla_breaches, c.bot_outcome, c.csat_rating).where(*cond))).all()
    rows: list[Any] = [r for r in archived if r.id not in newer] + [SimpleNamespace(**r) for r in fresh]
    out = _figures(rows)
    out["live"] = len(fresh)
    out["first_response_hist"] = histogram([r.first_response_s for r in rows if r.first_response_s is not None])
    by: dict[str, dict[str, list[Any]]] = {"pool": {}, "agent": {}, "channel": {}, "hour": {}}
    for r in rows:
        by["pool"].setdefault(r.pool or "", []).append(r)
        by["agent"].setdefault(r.agent or "", []).append(r)
        by["channel"].setdefault(r.channel or "", []).append(r)
        by["hour"].setdefault(str(int(r.created // 3600 * 3600)), []).append(r)
    out["by"] = {dim: [{"key": k, **_figures(v)} for k, v in sorted(groups.items())] for dim, groups in by.items()}
    return out


def _figures(rows: Any) -> dict[str, Any]:
    rows = list(rows)
    fr = [r.first_response_s for r in rows if r.first_response_s is not None]
    res = [r.resolution_s for r in rows if r.resolution_s is not None]
    bot = [r for r in rows if r.bot_outcome is not None]
    csat = [r.csat_rating for r in rows if r.csat_rating is not None]
    resolved = sum(1 for r in bot if r.bot_outcome == "resolved")
    return {
        "conversations": len(rows),
        "messages_in": sum(r.messages_in for r in rows),
        "messages_out": sum(r.messages_out for r in rows),
        "first_response_s": {"p50": pct(fr, 50), "p90": pct(fr, 90)},
        "resolution_s": {"p50": pct(res, 50), "p90": pct(res, 90)},
        "sla_breaches": sum(1 for r in rows if r.sla_breaches),
        "deflection_rate": round(resolved / len(bot), 4) if bot else None,
        "bot_conversations": len(bot),
        "bot_resolved": resolved,
        "csat": {"count": len(csat), "average": round(sum(csat) / len(csat), 2) if csat else None},
    }


BOT_COLUMNS = ("bot_reason", "bot_topic", "bot_faq_id", "bot_faq_score")
"""Why the bot answered or handed on, from its last turn's record (flat, for a spreadsheet)."""


def bot_fields(bot: str | None, turn: str | None) -> tuple[str, str, str, str]:
    """(handoff reason, topic, FAQ entry, FAQ score) of the bot's last turn; a turn of several
    parts gives each part's topic and entry, joined with "+"."""
    def load(raw: str | None) -> dict[str, Any]:
        try:
            got = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return got if isinstance(got, dict) else {}

    record, handoff = load(turn), load(bot)
    parts = [p for p in record.get("parts") or [] if isinstance(p, dict)] or ([record] if record else [])
    topics = "+".join(str(p.get("topic") or "") for p in parts)
    faq_ids = "+".join(str(p["faq_id"]) for p in parts if p.get("faq_id"))
    scores = "+".join(f"{float(p['faq_score']):.2f}" for p in parts if p.get("faq_score") is not None)
    return str(handoff.get("reason") or ""), topics, faq_ids, scores


async def export_csv(conn: AsyncConnection, since: float, until: float) -> str:
    c = conversations.c
    rows = (await conn.execute(sa.select(*[getattr(c, n) for n in EXPORT_COLUMNS], c.bot, c.bot_turn)
                               .where(*_where(since, until, None, None, None)).order_by(c.created))).all()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow((*EXPORT_COLUMNS, *BOT_COLUMNS))
    w.writerows((*r[:-2], *bot_fields(r[-2], r[-1])) for r in rows)
    return buf.getvalue()
