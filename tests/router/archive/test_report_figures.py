"""The report figures the console's charts draw: the first-response distribution and the bot's
counts behind the deflection rate, over hundreds of rows; and the times the reports take."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from helpers.app import BASIC, running

from router.archive.reports import FIRST_RESPONSE_BUCKETS, _figures, histogram
from router.config.settings import parse_settings


def test_histogram_counts_every_value_once_in_its_bucket() -> None:
    rng = random.Random(20)
    values = [rng.uniform(0, 4000) for _ in range(500)] + [15.0, 15.0001, 1800.0, 0.0]
    hist = histogram(values)
    assert [b["le"] for b in hist] == [*FIRST_RESPONSE_BUCKETS, None]
    assert sum(b["count"] for b in hist) == len(values)
    lo = 0.0
    for b in hist:
        hi = float("inf") if b["le"] is None else b["le"]
        # An edge is inclusive: 15 s counts as "within 15 s".
        assert b["count"] == sum(1 for v in values if (v == 0 and lo == 0) or lo < v <= hi)
        lo = hi
    assert histogram([]) == [{"le": le, "count": 0} for le in (*FIRST_RESPONSE_BUCKETS, None)]


def test_bot_counts_match_the_deflection_rate() -> None:
    rng = random.Random(7)
    rows = [SimpleNamespace(first_response_s=None, resolution_s=None, messages_in=1, messages_out=1, sla_breaches=0,
                            csat_rating=None, bot_outcome=rng.choice([None, "resolved", "handoff"]))
            for _ in range(300)]
    f = _figures(rows)
    bot = [r for r in rows if r.bot_outcome]
    assert f["bot_conversations"] == len(bot)
    assert f["bot_resolved"] == sum(r.bot_outcome == "resolved" for r in bot)
    assert f["deflection_rate"] == round(f["bot_resolved"] / f["bot_conversations"], 4)
    assert _figures([])["bot_conversations"] == 0 and _figures([])["deflection_rate"] is None


async def test_report_and_search_times_must_be_real_times(redis_url: str, tmp_path: Path) -> None:
    """NaN and infinity (float() takes them) get 400 with the reason, never a 500 or NaN in JSON."""
    cfg = BASIC.format(cap=5) + f"archive:\n  url: sqlite:///{tmp_path}/archive.db\n"
    async with running(parse_settings(cfg, "<test>"), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        await asyncio.wait_for(rt.archive.ready.wait(), 30)
        sue = {"Authorization": "Bearer sue-token-12345"}
        for bad in ("nan", "inf", "-Infinity", "1e400"):
            for path in (f"/api/v1/reports/summary?from={bad}&to=1", f"/api/v1/reports/summary?from=0&to={bad}",
                         f"/api/v1/reports/export.csv?from={bad}&to=1", f"/api/v1/search?q=x&from={bad}"):
                async with http.get(f"{base}{path}", headers=sue) as r:
                    assert r.status == 400, (path, r.status)
                    assert (await r.json())["error"] == "bad_query"
        async with http.get(f"{base}/api/v1/reports/summary?from=0&to=1e12", headers=sue) as r:
            assert r.status == 200 and (await r.json())["first_response_hist"][0] == {"le": 15, "count": 0}
