"""Conversations seeded straight into Redis and the archive, hundreds at a time, with known pools,
channels, routing tags, states and close times: what the views and their filters list."""

from __future__ import annotations

import json
import random
import time
from typing import Any

from router.archive.snapshot import Snapshot
from router.runtime import Runtime

DAY = 86400.0
POOLS = ("presale", "aftersale")
CHANNELS = ("webchat", "telegram", "wechat")


def _tags(n: int) -> list[str]:
    return [t for t, every in (("vip", 5), ("complaint", 7), ("after_sale", 3)) if n % every == 0]


def plan(n: int, now: float, rng: random.Random) -> dict[str, Any]:
    """Conversation number n: its pool, channel, tags, state, agent and times."""
    state = rng.choice(("assigned", "assigned", "queued", "closed", "closed", "closed"))
    closed_at = now - rng.uniform(0, 20) * DAY if state == "closed" else None
    return {"id": f"c_view{n:05d}", "pool": POOLS[n % 2], "channel": CHANNELS[n % 3], "tags": _tags(n),
            "state": state, "agent": rng.choice(("alice", "bob")) if state != "queued" else None,
            "created": (closed_at or now) - 600, "updated": closed_at or now - rng.uniform(0, 3600),
            "closed_at": closed_at, "customer": f"u_view{n:05d}"}


async def seed_live(rt: Runtime, p: dict[str, Any]) -> None:
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


async def seed_archived(rt: Runtime, p: dict[str, Any]) -> None:
    decision = {"decision": json.dumps({"rule": "seeded", "pool": p["pool"], "tags": p["tags"]}), "assignment": None}
    await rt.archive.write(Snapshot({
        "id": p["id"], "version": 1, "customer_id": p["customer"], "customer_name": "", "channel": p["channel"],
        "account": "seed", "chat": p["customer"], "identities": "[]", "state": "closed", "pool": p["pool"],
        "agent": p["agent"], "priority": 0, "created": p["created"], "closed_at": p["closed_at"], "reopened": 0,
        "messages_in": 1, "messages_out": 1, "sla_breaches": 0, "decision": json.dumps(decision),
        "archived_at": time.time()}))


def matching(plans: list[dict[str, Any]], view: str, *, pool: str | None = None, channel: str | None = None,
             tag: str | None = None, since: float | None = None, agent: str | None = None) -> list[str]:
    """The ids of `plans` a view with these filters lists (sorted)."""
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
