"""The reports summary on PostgreSQL, computed by the database in one statement.

Reading 100,000 rows into Python to count and sort them took about 11 s on a busy machine
(bench/bench_reports.py); PostgreSQL does the same work in one scan: GROUPING SETS give the whole
range and each `by` dimension at once, and `percentile_disc` the nearest-rank percentiles that
router/archive/reports.py computes on SQLite, so both databases answer alike. Live rows from
Redis join the archive's as a JSON record set, and the archive rows they replace are left out.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

FIGURES = """
    count(*) AS conversations, coalesce(sum(messages_in), 0) AS messages_in,
    coalesce(sum(messages_out), 0) AS messages_out,
    percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY first_response_s) AS fr,
    percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution_s) AS res,
    count(*) FILTER (WHERE sla_breaches > 0) AS breaches, count(bot_outcome) AS bot,
    count(*) FILTER (WHERE bot_outcome = 'resolved') AS bot_resolved, count(csat_rating) AS csat_n,
    avg(csat_rating) AS csat_avg"""

WORK_MEM = "64MB"
"""For this statement's transaction only (SET LOCAL): enough to sort 100,000 rows in memory."""

COLUMNS = ("pool", "agent", "channel", "created", "messages_in", "messages_out", "first_response_s", "resolution_s",
           "sla_breaches", "bot_outcome", "csat_rating")
LIVE_TYPES = ("pool text, agent text, channel text, created float8, messages_in int, messages_out int, "
              "first_response_s float8, resolution_s float8, sla_breaches int, bot_outcome text, csat_rating int")


def _round(v: Any, digits: int) -> float | None:
    return None if v is None else round(float(v), digits)


def _figures(r: Any) -> dict[str, Any]:
    fr, res = r.fr or (None, None), r.res or (None, None)  # NULL when the group has no values
    return {
        "conversations": int(r.conversations), "messages_in": int(r.messages_in), "messages_out": int(r.messages_out),
        "first_response_s": {"p50": _round(fr[0], 3), "p90": _round(fr[1], 3)},
        "resolution_s": {"p50": _round(res[0], 3), "p90": _round(res[1], 3)},
        "sla_breaches": int(r.breaches),
        "deflection_rate": round(int(r.bot_resolved) / int(r.bot), 4) if r.bot else None,
        "bot_conversations": int(r.bot), "bot_resolved": int(r.bot_resolved),
        "csat": {"count": int(r.csat_n), "average": _round(r.csat_avg, 2)},
    }


async def summary(conn: AsyncConnection, since: float, until: float, filters: Mapping[str, str | None],
                  fresh: Sequence[Mapping[str, Any]], newer: set[str],
                  edges: tuple[int, ...]) -> dict[str, Any]:
    """The summary's figures, `by` and first-response histogram (without `live`)."""
    where = ["created >= :since", "created < :until"]
    params: dict[str, Any] = {"since": since, "until": until,
                              "live": json.dumps([{k: r.get(k) for k in COLUMNS} for r in fresh]),
                              "newer": sorted(newer)}
    for col, value in filters.items():
        if value:
            where.append(f"{col} = :{col}")
            params[col] = value
    if newer:
        where.append("NOT (id = ANY(:newer))")
    hist = ", ".join(f"count(*) FILTER (WHERE first_response_s <= {e}) AS le{e}" for e in edges)
    sql = f"""
    WITH src AS (
        SELECT {', '.join(COLUMNS)} FROM conversations WHERE {' AND '.join(where)}
        UNION ALL
        SELECT * FROM jsonb_to_recordset(CAST(:live AS jsonb)) AS x({LIVE_TYPES})
    ), s AS (SELECT *, floor(created / 3600) * 3600 AS hour FROM src)
    SELECT GROUPING(pool) AS g_pool, GROUPING(agent) AS g_agent, GROUPING(channel) AS g_channel,
           GROUPING(hour) AS g_hour, pool, agent, channel, hour, count(first_response_s) AS fr_n, {hist}, {FIGURES}
    FROM s GROUP BY GROUPING SETS ((), (pool), (agent), (channel), (hour))"""
    stmt = sa.text(sql)
    if not newer:
        params.pop("newer")
    # The percentiles sort each grouping set; at the default 4 MB a 30-day range sorts on disk.
    await conn.execute(sa.text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    rows = (await conn.execute(stmt, params)).all()
    out: dict[str, Any] = {}
    by: dict[str, list[dict[str, Any]]] = {"pool": [], "agent": [], "channel": [], "hour": []}
    for r in rows:
        dims = {"pool": r.g_pool, "agent": r.g_agent, "channel": r.g_channel, "hour": r.g_hour}
        grouped = [d for d, g in dims.items() if not g]
        if not grouped:
            out = _figures(r)
            below = [int(getattr(r, f"le{e}")) for e in edges]
            counts = [below[0]] + [b - a for a, b in itertools.pairwise(below)] + [int(r.fr_n) - below[-1]]
            out["first_response_hist"] = [{"le": le, "count": n} for le, n in zip((*edges, None), counts, strict=True)]
            continue
        dim = grouped[0]
        key = str(int(r.hour)) if dim == "hour" else (getattr(r, dim) or "")
        by[dim].append({"key": key, **_figures(r)})
    if not out:  # nothing in the range: PostgreSQL still answers the () set, but be safe
        out = {"conversations": 0}
    out["by"] = {dim: sorted(groups, key=lambda g: g["key"]) for dim, groups in by.items()}
    return out
