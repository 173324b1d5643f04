"""Conversation views with filters (issue 19) at a few hundred conversations: pool, channel, the
routing decision's tag and the `recent` view (closed within N days), over Redis and the archive
together, paged by cursor, each matching conversation once; agents only their own; bad values
refused with a reason."""

from __future__ import annotations

import random
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running
from helpers.views import DAY, matching, plan, seed_archived, seed_live

from router.config.settings import Settings, parse_settings

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}
LIVE = 320
ARCHIVED = 160


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=20) + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 86400
  sweep_interval_s: 3600
""", "<test>")


async def _page_all(http: aiohttp.ClientSession, base: str, query: str, who: dict[str, str],
                    limit: int = 37) -> list[str]:
    """Every id of a view, page after page; a page is short only at the end."""
    ids: list[str] = []
    cursor = ""
    for _ in range(100):
        async with http.get(f"{base}/api/v1/conversations?{query}&limit={limit}{cursor}", headers=who) as r:
            body = await r.json()
            assert r.status == 200, body
        ids += [c["id"] for c in body["conversations"]]
        if not body["next_cursor"]:
            return ids
        cursor = f"&cursor={body['next_cursor']}"
    raise AssertionError("the view never ended")


async def test_filters_over_redis_and_the_archive(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        await rt.archive.ready.wait()
        now = time.time()
        rng = random.Random(19)
        plans = [plan(n, now, rng) for n in range(LIVE + ARCHIVED)]
        live, gone = plans[:LIVE], plans[LIVE:]
        for p in gone:  # the archive keeps closed ones only
            p["state"] = "closed"
            p["closed_at"] = p["closed_at"] or now - rng.uniform(0, 20) * DAY
            p["agent"] = p["agent"] or "alice"
        for p in live:
            await seed_live(rt, p)
        for p in gone:
            await seed_archived(rt, p)

        cases: list[tuple[str, dict[str, Any]]] = [
            ("all", {}), ("all", {"pool": "aftersale"}), ("closed", {"channel": "telegram"}),
            ("all", {"tag": "vip"}), ("closed", {"tag": "after_sale", "pool": "presale"}),
            ("open", {"channel": "wechat", "tag": "complaint"}), ("unassigned", {"pool": "presale"}),
            ("all", {"pool": "presale", "channel": "webchat", "tag": "vip"}),
        ]
        for view, f in cases:
            query = "&".join([f"view={view}", *(f"{k}={v}" for k, v in f.items())])
            got = await _page_all(http, base, query, SUE)
            assert len(got) == len(set(got)), query  # each once
            assert sorted(got) == matching(plans, view, **f), query
            assert got, query  # the seeds make every case match something

        # Recent: closed within 3 days, live and archived alike; narrowed by tag as well.
        got = await _page_all(http, base, "view=recent&days=3", SUE)
        want = matching(plans, "recent", since=now - 3 * DAY)
        assert sorted(got) == want and any(i in want for i in (p["id"] for p in gone))
        got = await _page_all(http, base, "view=recent&days=10&tag=after_sale", SUE)
        assert sorted(got) == matching(plans, "recent", since=now - 10 * DAY, tag="after_sale")
        # Without days: the last seven.
        got = await _page_all(http, base, "view=recent", SUE, limit=200)
        assert sorted(got) == matching(plans, "recent", since=now - 7 * DAY)

        # An agent's views hold only their own, filters or not: their open ones from Redis, what
        # they closed from the archive (where it is within a second of the close).
        got = await _page_all(http, base, "view=mine&tag=vip", ALICE)
        theirs = [p for p in live if p["state"] == "assigned"] + gone
        assert sorted(got) == matching(theirs, "all", tag="vip", agent="alice")

        # A tag that only appears inside another word matches nothing (the LIKE is only a narrowing).
        got = await _page_all(http, base, "view=all&tag=sale", SUE)
        assert got == []

        for bad, why in (("view=all&pool=bad%20pool", "pool must be"), ("view=all&channel=fax", "channel must be"),
                         ("view=all&tag=a%20b", "tag must be"), ("view=recent&days=0", "days must be 1 to"),
                         ("view=recent&days=x", "days must be a whole"), ("view=all&days=3", "view=recent only"),
                         ("view=latest", "view must be")):
            async with http.get(f"{base}/api/v1/conversations?{bad}", headers=SUE) as r:
                body = await r.json()
                assert r.status == 400 and why in body["detail"], (bad, body)
