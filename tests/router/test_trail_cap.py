"""A conversation's trail (what happened, in order, for the archive) is capped: a customer who
keeps the bot talking for hours grows it no further than 1,000 entries. The oldest go, the
conversation counts them, and the archive's event numbers stay their true positions."""

from __future__ import annotations

import json

from router.archive.snapshot import take
from router.store import Store
from router.store.calls.background import BotDone

TURNS = 1_200


async def test_bot_turns_past_the_cap_drop_the_oldest_and_are_counted(store: Store) -> None:
    cid, k = "c_chatty", store.keys
    await store.client.hset(k.conv(cid), mapping={"state": "bot", "created": 1.0, "channel": "webchat"})
    for n in range(TURNS):
        await store.client.set(k.bot_lease(cid), "tok")
        assert await store.run(BotDone(cid, "tok", 0, "{}", 1000.0 + n, json.dumps({"n": n})))
    trail = await store.client.lrange(k.conv_trail(cid), 0, -1)
    assert len(trail) == 1_000
    assert [json.loads(t)["turn"]["n"] for t in trail] == list(range(TURNS - 1_000, TURNS))
    assert await store.client.hget(k.conv(cid), "trail_dropped") == str(TURNS - 1_000)
    snap = await take(store, cid, live=True)
    assert snap is not None
    assert [e["seq"] for e in snap.events][:2] == [TURNS - 1_000, TURNS - 999]
    assert snap.events[-1]["seq"] == TURNS - 1
