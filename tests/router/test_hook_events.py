"""The routing scripts write webhook events in the same step as the change, on a plain server and
on a Cluster node: nothing while no webhook is enabled; with one, each change once, in order."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from assign_harness import Harness, settings_for

from router.hooks.emit import emit

HOOK = {"id": "h", "url": "https://hooks.example.com/", "secret": "s" * 20, "events": ["message.created"],
        "enabled": True, "source": "api"}


@pytest.fixture
async def h(routing_redis_url: str) -> AsyncIterator[Harness]:
    harness = await Harness(routing_redis_url, settings_for([{"id": "alice"}, {"id": "bob"}], ["presale"])).open()
    try:
        yield harness
    finally:
        await harness.close()


async def events(h: Harness) -> list[tuple[str, dict[str, object]]]:
    entries = await h.store.client.xrange(h.store.keys.hook_events)
    return [(f["type"], json.loads(f["data"])) for _, f in entries]


async def test_nothing_is_written_while_no_webhook_is_enabled(h: Harness) -> None:
    await h.status("alice", "online")
    cid = await h.arrive("u1", "presale")
    await h.close_conv(cid)
    assert not await emit(h.store, "csat:x", "csat.created", cid, {})
    await h.store.hooks.put({**HOOK, "enabled": False})
    await h.arrive("u2", "presale")
    assert await events(h) == []


async def test_each_change_once_in_order(h: Harness) -> None:
    await h.store.hooks.put(HOOK)
    cid = await h.arrive("u1", "presale")  # queued: nobody online
    await h.status("alice", "online")  # the queue drains to alice
    await h.status("bob", "online")
    await h.transfer(cid, "agent", "bob")
    await h.close_conv(cid)
    # From Python, once per key: a retried step writes nothing more.
    assert await emit(h.store, f"csat:{cid}", "csat.created", cid, {"conversation_id": cid, "rating": 5})
    assert not await emit(h.store, f"csat:{cid}", "csat.created", cid, {"conversation_id": cid, "rating": 5})
    got = await events(h)
    assert [t for t, _ in got] == ["conversation.created", "message.created", "conversation.assigned",
                                   "conversation.assigned", "conversation.transferred", "conversation.closed",
                                   "csat.created"]
    assert all(d["conversation_id"] == cid for _, d in got)
    assert got[1][1]["direction"] == "in" and got[1][1]["message"] == {"id": got[1][1]["message"]["id"],  # type: ignore[index]
                                                                        "text": "hi"}
    assert (got[2][1]["agent_id"], got[3][1]["agent_id"]) == ("alice", "bob")
    assert got[4][1]["to"] == "bob" and got[4][1]["outcome"] == "assigned"
    assert got[5][1]["agent_id"] == "bob" and got[5][1]["resolution"] == "done"
    # A re-read entry (resolved and routed again with its message id) writes nothing more.
    now = time.time()
    args = ["m_again", "webchat:shop:u9", "cu_again", "c_again", now, 600, "webchat", "shop", "u9", ""]
    res = await h.store.call("resolve", args)
    route = ["m_again", str(res[2]), now, json.dumps({"id": "m_again", "text": "hi"}), "presale", 1, "[]", 1, "0",
             "{}", 3600]
    assert (await h.store.call("route", route))[0] == "ok"
    written = len(await events(h))
    assert (await h.store.call("resolve", args))[0] == "dup" and (await h.store.call("route", route))[0] == "dup"
    assert len(await events(h)) == written == len(got) + 3  # created, message, assigned (alice is free)
