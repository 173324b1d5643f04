"""Conversation views with filters (issue 19) at a few hundred conversations: pool, channel, the
routing decision's tag and the `recent` view (closed within N days), over Redis and the archive
together, paged by cursor, each matching conversation once; agents only their own; bad values
refused with a reason."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import aiohttp
from helpers.app import BASIC, running

from router.archive.snapshot import Snapshot
from router.config.settings import Settings, parse_settings
from router.runtime import Runtime

SUE = {"Authorization": "Bearer sue-token-12345"}
ALICE = {"Authorization": "Bearer alice-token-1234"}
LIVE = 320
ARCHIVED = 160
DAY = 86400.0
POOLS = ("presale", "aftersale")
CHANNELS = ("webchat", "telegram", "wechat")


def settings(archive_url: str) -> Settings:
    return parse_settings(BASIC.format(cap=20) + f"""
archive:
  url: {archive_url}
retention:
  redis_after_close_s: 86400
  sweep_interval_s: 3600
""", "<test>")


def _tags(n: int) -> list[str]:
    return [t for t, every in (("vip", 5), ("complaint", 7), ("after_sale", 3)) if n % every == 0]


def _plan(n: int, now: float, rng: random.Random) -> dict[str, Any]:
    """Conversation number n: its pool, channel, tags, state, agent and times."""
    state = rng.choice(("assigned", "assigned", "queued", "closed", "closed", "closed"))
    closed_at = now - rng.uniform(0, 20) * DAY if state == "closed" else None
    return {"id": f"c_view{n:05d}", "pool": POOLS[n % 2], "channel": CHANNELS[n % 3], "tags": _tags(n),
            "state": state, "agent": rng.choice(("alice", "bob")) if state != "queued" else None,
            "created": (closed_at or now) - 600, "updated": closed_at or now - rng.uniform(0, 3600),
            "closed_at": closed_at, "customer": f"u_view{n:05d}"}


async def _seed_live(rt: Runtime, p: dict[str, Any]) -> None:
    """A conversation hash as the route and close scripts leave it, and its place in the index."""
    decision = json.dumps({"rule": "seeded", "pool": p["pool"], "tags": p["tags"]})
    fields = {"id": p["id"], "customer": p["customer"], "channel": p["channel"], "account": "seed",
              "chat": p["customer"], "state": p["state"], "pool": p["pool"], "created": p["created"],
              "updated": p["updated"], "decision": decision}
    if p["agent"]:
        fields["agent"] = p["agent"]
    if p["closed_at"]:
        fields["closed_at"] = p["closed_at"]
    if p["state"] == "assigned":
        await rt.store.client.sadd(rt.store.keys.agent_convs(p["agent"]), p["id"])
    await rt.store.client.hset(rt.store.keys.conv(p["id"]), mapping=fields)
    await rt.store.client.zadd(rt.store.keys.conv_index, {p["id"]: p["updated"]})


async def _seed_archived(rt: Runtime, p: dict[str, Any]) -> None:
    decision = {"decision": json.dumps({"rule": "seeded", "pool": p["pool"], "tags": p["tags"]}), "assignment": None}
    await rt.archive.write(Snapshot({
        "id": p["id"], "version": 1, "customer_id": p["customer"], "customer_name": "", "channel": p["channel"],
        "account": "seed", "chat": p["customer"], "identities": "[]", "state": "closed", "pool": p["pool"],
        "agent": p["agent"], "priority": 0, "created": p["created"], "closed_at": p["closed_at"], "reopened": 0,
        "messages_in": 1, "messages_out": 1, "sla_breaches": 0, "decision": json.dumps(decision),
        "archived_at": time.time()}))


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


def _expect(plans: list[dict[str, Any]], view: str, *, pool: str | None = None, channel: str | None = None,
            tag: str | None = None, since: float | None = None, agent: str | None = None) -> list[str]:
    out = []
    for p in plans:
        if agent and p["agent"] != agent:
            continue
        if (view == "open" and p["state"] == "closed") or (view in ("closed", "recent") and p["state"] != "closed"):
            continue
        if view == "unassigned" and p["state"] != "queued":
            continue
        if since is not None and (p["closed_at"] or 0) < since:
            continue
        if (pool and p["pool"] != pool) or (channel and p["channel"] != channel) or (tag and tag not in p["tags"]):
            continue
        out.append(p["id"])
    return sorted(out)


async def test_filters_over_redis_and_the_archive(redis_url: str, archive_url: str) -> None:
    async with running(settings(archive_url), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        await rt.archive.ready.wait()
        now = time.time()
        rng = random.Random(19)
        plans = [_plan(n, now, rng) for n in range(LIVE + ARCHIVED)]
        live, gone = plans[:LIVE], plans[LIVE:]
        for p in gone:  # the archive keeps closed ones only
            p["state"] = "closed"
            p["closed_at"] = p["closed_at"] or now - rng.uniform(0, 20) * DAY
            p["agent"] = p["agent"] or "alice"
        for p in live:
            await _seed_live(rt, p)
        for p in gone:
            await _seed_archived(rt, p)

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
            assert sorted(got) == _expect(plans, view, **f), query
            assert got, query  # the seeds make every case match something

        # Recent: closed within 3 days, live and archived alike; narrowed by tag as well.
        got = await _page_all(http, base, "view=recent&days=3", SUE)
        want = _expect(plans, "recent", since=now - 3 * DAY)
        assert sorted(got) == want and any(i in want for i in (p["id"] for p in gone))
        got = await _page_all(http, base, "view=recent&days=10&tag=after_sale", SUE)
        assert sorted(got) == _expect(plans, "recent", since=now - 10 * DAY, tag="after_sale")
        # Without days: the last seven.
        got = await _page_all(http, base, "view=recent", SUE, limit=200)
        assert sorted(got) == _expect(plans, "recent", since=now - 7 * DAY)

        # An agent's views hold only their own, filters or not: their open ones from Redis, what
        # they closed from the archive (where it is within a second of the close).
        got = await _page_all(http, base, "view=mine&tag=vip", ALICE)
        theirs = [p for p in live if p["state"] == "assigned"] + gone
        assert sorted(got) == _expect(theirs, "all", tag="vip", agent="alice")

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
