"""Merges are reversible at scale: 300 customers with conversations, names, tags and segments;
120 merges (chains included: a customer that others were merged into is merged on) and links by
shared anchors; undoing them all in reverse order leaves every routing key exactly as it was."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from kefu_common.errors import ProtocolError
from router.models import new_id
from router.store import Store
from router.store.calls.customers import Link, Merge, Unmerge
from router.store.calls.routing import Resolve

CUSTOMERS = 300


async def snapshot(store: Store) -> dict[str, Any]:
    """Every key of the routing slot with its value, by type."""
    r = store.client
    out: dict[str, Any] = {}
    for key in sorted(await r.keys("{rt:*")):
        kind = await r.type(key)
        if kind == "hash":
            out[key] = await r.hgetall(key)
        elif kind == "set":
            out[key] = sorted(await r.smembers(key))
        elif kind == "zset":
            out[key] = await r.zrange(key, 0, -1, withscores=True)
        elif kind == "string":
            out[key] = await r.get(key)
    return out


async def _customers(store: Store) -> list[tuple[str, str]]:
    """(customer id, identity) of CUSTOMERS web chat customers, each with an open conversation."""
    now = time.time()
    calls = [Resolve(new_id("m"), f"webchat:web:v{n}", new_id("cu"), new_id("c"), now, 600, "webchat", "web",
                     f"v{n}", f"客户{n}" if n % 3 else "") for n in range(CUSTOMERS)]
    resolved = await store.run_many(calls)
    out = []
    rng = random.Random(16)
    for n, res in enumerate(resolved):
        assert not isinstance(res, Exception), res
        fields = {"segment": rng.choice(["new", "returning", "vip"])}
        if n % 4 == 0:
            fields["tags"] = json.dumps(rng.sample(["团购", "大码", "老客", "投诉过"], 2), ensure_ascii=False)
        await store.customers.update(res.customer, fields)
        out.append((res.customer, f"webchat:web:v{n}"))
    return out


async def test_merging_and_linking_hundreds_then_undoing_all_restores_every_key(store: Store) -> None:
    custs = await _customers(store)
    before = await snapshot(store)
    rng = random.Random(19)
    ids = [c for c, _ in custs]
    undo: list[str] = []
    merged: set[str] = set()
    for _ in range(120):
        source, into = rng.sample(ids, 2)
        try:
            await store.run(Merge(source, into, time.time(), "test"))
        except ProtocolError as exc:
            assert exc.code in ("already_merged", "target_merged"), exc
            assert source in merged or into in merged
            continue
        merged.add(source)
        undo.append(source)
    assert len(undo) > 60
    # Every merged customer's identity now finds the customer it was merged into, chains followed.
    for cust, ident in custs:
        owner = await store.customers.by_identity(*ident.split(":"))
        assert owner not in merged and owner is not None
        assert cust in merged or owner == cust
    chained = [s for s in undo if (await store.customer(s) or {}).get("merged_into") in merged]
    with pytest.raises(ProtocolError) as refused:
        await store.run(Unmerge(chained[0]))
    assert refused.value.code == "target_merged"  # not out of order
    for source in reversed(undo):
        await store.run(Unmerge(source))
    after = await snapshot(store)
    diff = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert not diff, str(list(diff.items())[:2])


async def test_links_by_one_anchor_make_one_customer_and_undo(store: Store) -> None:
    custs = await _customers(store)
    before = await snapshot(store)
    # Each group of 5 customers shares one shop user id: they become one customer each.
    results = []
    for n, (_cust, ident) in enumerate(custs):
        results.append(await store.run(Link(ident, f"user:web:u{n // 5}", new_id("cu"), time.time(), "identify")))
    owners = {}
    for n, res in enumerate(results):
        owners.setdefault(n // 5, set()).add(res.customer)
    assert all(len(o) == 1 for o in owners.values())
    assert len({next(iter(o)) for o in owners.values()}) == CUSTOMERS // 5
    merged_away = [r.merged_from for r in results if r.merged_from]
    assert len(merged_away) == CUSTOMERS - CUSTOMERS // 5
    for source in reversed(merged_away):
        await store.run(Unmerge(source))
    after = await snapshot(store)
    # What stays: the anchors themselves (user:web:uN) name the first customer of each group.
    added = {k: v for k, v in after.items() if k not in before or before[k] != v}
    for key, value in added.items():
        if key.endswith(":idents"):
            assert [i for i in value if not i.startswith("user:web:")] == before[key]
        else:
            assert ":ident:user:web:" in key, (key, before.get(key), value)
