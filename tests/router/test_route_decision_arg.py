"""The worker sends a line's decision record only when resolve found its conversation new (the
route script keeps it only then); a conversation that is new again by the time its route runs (a
reopen in between) refuses the line before any write, and the retry brings the record."""

from __future__ import annotations

import json
import time

import pytest

from router.models import new_id
from router.store import Store
from router.store.calls.routing import Resolve, Route

N = 200


def route(mid: str, cid: str, decision: str) -> Route:
    return Route(mid, cid, time.time(), json.dumps({"id": mid, "text": "在吗"}), "presale", 0, (), 1, False,
                 decision, 3600, 0.0, plain=True)


async def test_follow_ups_route_without_the_record_and_a_new_one_without_it_is_refused(store: Store) -> None:
    now = time.time()
    mids = [new_id("m") for _ in range(N)]
    resolved = await store.run_many([Resolve(mids[n], f"webchat:web:v{n}", new_id("cu"), new_id("c"), now, 600,
                                             "webchat", "web", f"v{n}", "") for n in range(N)])
    cids = [r.cid for r in resolved]  # type: ignore[union-attr]
    assert all(r.state == "new" for r in resolved)  # type: ignore[union-attr]
    record = json.dumps({"rule": "default", "pool": "presale", "sla_profile": None})

    # Half routed with their record (as the worker does for a new conversation); the other half
    # find the conversation new without one: refused, nothing written, and tried again it goes.
    for n, cid in enumerate(cids):
        if n % 2:
            with pytest.raises(Exception, match="REOPENED_SINCE_RESOLVE"):
                await store.run(route(mids[n], cid, ""))
            conv = await store.client.hgetall(store.keys.conv(cid))
            assert conv["state"] == "new" and conv["messages"] == "0" and "decision" not in conv
        moved = await store.run(route(mids[n], cid, record))
        assert moved.status == "ok" and moved.state == "queued"

    # Follow-ups carry no record and leave the kept one as it was.
    for cid in cids:
        moved = await store.run(route(new_id("m"), cid, ""))
        assert moved.status == "ok" and moved.state == "queued"
    for cid in cids:
        conv = await store.client.hgetall(store.keys.conv(cid))
        assert conv["messages"] == "2" and json.loads(conv["decision"])["rule"] == "default"
