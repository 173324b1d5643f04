"""The report figures the console's charts draw: the first-response distribution and the bot's
counts behind the deflection rate, over hundreds of rows."""

from __future__ import annotations

import random
from types import SimpleNamespace

from router.archive.reports import FIRST_RESPONSE_BUCKETS, _figures, histogram


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
