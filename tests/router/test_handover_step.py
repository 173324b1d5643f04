"""A step that hands a chat on alone owes it its note (and, when its agent went offline, its
customer text): status.lua and transfer.lua record them (a durable `handover` or `transfer` timer
per chat) in the step that moves the chats, so a process that dies right after the step, or in the
middle of writing them, loses none; whoever fires the timer writes each once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from assign_harness import Harness, settings_for

from router.ops.handover import HANDOVER, TRANSFER, Handovers
from router.pipeline.outbox import Outbox
from router.pipeline.timers import TimerRunner
from router.pipeline.transcript import Transcript
from router.store import Store

LEFT = "客服已离开，正在为您转接"


@pytest.fixture
async def h(routing_redis_url: str) -> AsyncIterator[Harness]:
    harness = await Harness(routing_redis_url, settings_for(
        [{"id": "alice", "cap": 2}, {"id": "bob", "cap": 1}], ["presale", "aftersale"])).open()
    yield harness
    await harness.close()


@pytest.fixture
async def other_process(routing_redis_url: str) -> AsyncIterator[tuple[Store, Handovers]]:
    """A second router process: its own client, transcript, outbox and handover handler."""
    store = Store(routing_redis_url)
    await store.open()
    yield store, Handovers(store, Transcript(store), Outbox(store), LEFT)
    await store.close()


async def notes(store: Store, cid: str) -> list[str]:
    return [m.text for m in await Transcript(store).messages(cid) if m.direction.value == "note"]


async def outbox(store: Store) -> list[dict[str, Any]]:
    return [json.loads(f["m"]) for _, f in await store.client.xrange(store.keys.outbound)]


async def crash_then_fire(h: Harness, other: tuple[Store, Handovers], kind: str, n: int) -> TimerRunner:
    """The process that ran the step dies now (no Python follows it). A process that claimed the
    step's timers dies too, before writing: its leases run out, and `other` fires all `n`."""
    await h.store.call("timer_claim", [h.now, 1, 100])
    store, handler = other
    runner = TimerRunner(store, lease_s=30)
    runner.on(kind, handler.fire)
    await runner.tick(h.now + 2)
    assert runner.fired == n
    return runner


async def test_the_status_step_records_note_and_text_and_a_crash_loses_neither(
        h: Harness, other_process: tuple[Store, Handovers]) -> None:
    await h.status("alice", "online")
    tg = await h.arrive("ivan", "presale", channel="telegram")
    web = await h.arrive("wei", "presale")
    assert [await h.agent_of(c) for c in (tg, web)] == ["alice", "alice"]
    await h.status("bob", "online")

    # The status step alone, as at a shift's end: no Python follows it here.
    res = await h.store.call("status", ["alice", "offline", h.tick(0.001), "shift_end"])
    assert res[:3] == ["ok", "online", 2]
    k = h.store.keys
    entries = {f["conversation_id"]: (eid, f) for eid, f in await h.store.client.xrange(k.handovers)}
    assert set(entries) == {tg, web}
    # In the same step, one durable timer per handover entry, due at once, carrying the entry.
    data = {tid: json.loads(raw) for tid, raw in (await h.store.client.hgetall(k.timers_data)).items()}
    handovers = {tid: d for tid, d in data.items() if d["kind"] == HANDOVER}
    assert sorted(handovers) == sorted(f"{cid}:handover:{eid}" for cid, (eid, _) in entries.items())
    for tid, d in handovers.items():
        eid, f = entries[d["cid"]]
        assert d["handover"]["id"] == eid and d["handover"]["to"] == f["to"]
        assert await h.store.client.zscore(k.timers_due, tid) == h.now
    to = {cid: f["to"] for cid, (_, f) in entries.items()}
    assert sorted(to.values()) == ["", "bob"]  # bob had room for one; the other waits at the front

    runner = await crash_then_fire(h, other_process, HANDOVER, 2)
    store, handler = other_process

    for cid in (tg, web):
        where = "now with bob" if to[cid] else "waiting at the front of the presale queue"
        assert await notes(store, cid) == [f"alice shift ended; the conversation was handed over, {where}."]
    sent = await outbox(store)
    assert [(m["conversation_id"], m["text"], m["channel"], m["chat"]) for m in sent] == [
        (tg, LEFT, "telegram", "ivan")]  # web chat pages show the agent_left frame instead
    assert await store.client.zcard(k.timers_due) == 0 and await store.client.zcard(k.timers_inflight) == 0

    # Fired again (a lease that ran out mid-write), and the step retried: nothing twice.
    for d in handovers.values():
        await handler.fire("again", d, h.now + 3)
    assert await h.status("alice", "offline") == ["ok", "offline", 0, "[]"]
    assert await runner.tick(h.now + 4) == (None, False)
    for cid in (tg, web):
        assert len(await notes(store, cid)) == 1
    assert len(await outbox(store)) == 1
    # Bob, who has one of the chats, was shown its note live once.
    frames = [json.loads(f["f"]) for _, f in await store.client.xrange(k.agent_events("bob"))]
    assert len([f for f in frames if f["type"] == "message" and f["message"].get("note")]) == 1


async def test_the_transfer_step_records_its_note_and_a_crash_loses_it(
        h: Harness, other_process: tuple[Store, Handovers]) -> None:
    await h.status("alice", "online")
    web = await h.arrive("wei", "presale")
    tg = await h.arrive("ivan", "presale", channel="telegram")
    assert [await h.agent_of(c) for c in (web, tg)] == ["alice", "alice"]
    await h.status("bob", "online")
    k = h.store.keys
    # A transfer without its id changes nothing (checked before any write).
    assert await h.store.call("transfer", [web, "alice", "0", "agent", "bob", h.tick(0.001), ""]) == [
        "err", "missing transfer id", ""]
    assert await h.agent_of(web) == "alice" and await h.store.client.hlen(k.timers_data) == 0

    # The transfer steps alone: no Python follows them here. One to an agent with room, one to a
    # pool nobody in it is online for, so it waits.
    assert await h.transfer(web, "agent", "bob", actor="alice", note="wants a refund", tid="tr_1") == [
        "ok", "assigned", "bob"]
    at = {f"{web}:transfer:tr_1": h.now}
    assert await h.transfer(tg, "pool", "aftersale", actor="alice", note="", tid="tr_2") == [
        "ok", "queued", "aftersale"]
    at[f"{tg}:transfer:tr_2"] = h.now
    # In the same step, one durable timer per transfer, due at once, carrying the transfer.
    data = {tid: json.loads(raw) for tid, raw in (await h.store.client.hgetall(k.timers_data)).items()}
    assert {tid: d["transfer"] for tid, d in data.items() if d["kind"] == TRANSFER} == {
        f"{web}:transfer:tr_1": {"id": "tr_1", "conversation_id": web, "by": "alice", "outcome": "assigned",
                                 "to": "bob", "note": "wants a refund"},
        f"{tg}:transfer:tr_2": {"id": "tr_2", "conversation_id": tg, "by": "alice", "outcome": "queued",
                                "to": "aftersale", "note": ""}}
    for tid in data:
        assert await h.store.client.zscore(k.timers_due, tid) == at[tid]

    runner = await crash_then_fire(h, other_process, TRANSFER, 2)
    store, handler = other_process
    assert await notes(store, web) == ["alice transferred this conversation to bob: wants a refund"]
    assert await notes(store, tg) == ["alice transferred this conversation to the aftersale queue"]
    assert await outbox(store) == []  # a transfer texts no customer; web chat saw the agent frame
    assert await store.client.zcard(k.timers_due) == 0 and await store.client.zcard(k.timers_inflight) == 0

    # Fired again (a lease that ran out mid-write), and each transfer retried: nothing twice.
    for d in data.values():
        await handler.fire("again", d, h.now + 3)
    assert await h.transfer(web, "agent", "bob", actor="alice", tid="tr_1") == ["err", "not_assigned_to_you", ""]
    assert await h.transfer(web, "agent", "bob", tid="tr_3") == ["err", "already assigned to bob", ""]
    assert await h.transfer(tg, "pool", "aftersale", actor="alice", tid="tr_2") == [
        "err", "not_assigned_to_you", ""]
    assert await runner.tick(h.now + 4) == (None, False)
    for cid in (web, tg):
        assert len(await notes(store, cid)) == 1
    assert await outbox(store) == []
    # Bob, who has the chat now, was shown its note live once.
    frames = [json.loads(f["f"]) for _, f in await store.client.xrange(k.agent_events("bob"))]
    assert len([f for f in frames if f["type"] == "message" and f["message"].get("note")]) == 1
