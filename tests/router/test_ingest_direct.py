"""Follow-ups routed as they are taken in (router/store/lua/ingest_direct.lua): a customer's text
line to a conversation someone holds has the same effects as through the inbound stream and the
route worker, in the customer's order; every other line still goes through the stream."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
from assign_harness import Harness, on_server
from helpers.workers import route_all

from router.config.schema import WorkerSettings
from router.models import WEBCHAT, Message, decode_message
from router.ops.csat import may_be_rating
from router.pipeline.ingest import Direct, Ingestor
from router.pipeline.transcript import Transcript
from router.pipeline.worker import RouteWorker
from router.rules.holder import RulesHolder
from routing_rules.ruleset import Action, RuleSet, builtin_default

AGENTS = 30
CUSTOMERS = 300
CONFIG = "pools:\n  - id: presale\nagents:\n" + "".join(
    f"  - id: a{i}\n    token: token-a{i}-xxxxxxxx\n    pools: [presale]\n    max_chats: 20\n" for i in range(AGENTS))
# Texts a JSON splice could get wrong: quotes, escapes, Chinese, an emoji, something like a mark.
TEXTS = ('在吗', 'say "hi"\\n\nok', '这件有M码吗？😀', '@00000000000000c @u {"conversation_id":"x"}')


def line(user: str, n: int, text: str | None = None) -> Message:
    return Message(id=f"m-{user}-{n}", channel=WEBCHAT, account="web", native_id=f"{user}:{n}",
                   sender_ref=user, text=text if text is not None else TEXTS[n % len(TEXTS)], ts=1_800_000_000.0 + n)


@pytest.fixture(params=["6.2", "7"])
async def h(request: pytest.FixtureRequest, redis_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with on_server(request.param, redis_url, tmp_path, CONFIG, AGENTS) as harness:
        yield harness


@pytest.fixture
async def worker(h: Harness) -> RouteWorker:
    w = RouteWorker(h.store, Transcript(h.store), RulesHolder(builtin_default("presale")),
                    WorkerSettings(block_ms=10, claim_idle_ms=60_000))
    await w.group.ensure()
    return w



async def transcript(h: Harness, cid: str) -> list[Message]:
    return [decode_message(f["m"]) for _, f in await h.store.client.xrange(h.store.keys.transcript(cid))]


async def agent_frames(h: Harness) -> dict[str, list[dict[str, Any]]]:
    """Each conversation's `message` frames, over every agent's event stream, in order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for i in range(AGENTS):
        for _, f in await h.store.client.xrange(h.store.keys.agent_events(f"a{i}")):
            frame = json.loads(f["f"])
            if frame["type"] == "message":
                out.setdefault(frame["conversation_id"], []).append(frame)
    return out


async def open_conversation(h: Harness, user: str) -> str:
    cust = await h.store.client.get(h.store.keys.identity_of(f"webchat:web:{user}"))
    return str(await h.store.client.hget(h.store.keys.customer(cust), "open"))


async def test_follow_ups_routed_at_ingest_have_the_stream_paths_effects(h: Harness, worker: RouteWorker) -> None:
    users = [f"v{i}" for i in range(CUSTOMERS)]
    direct, plain = Ingestor(h.store, direct=Direct()), Ingestor(h.store)
    for u in users:  # a first line is decided by the rules: through the stream, whichever door
        assert not (await direct.ingest(line(u, 1))).duplicate
    assert await route_all(worker) == CUSTOMERS
    fast, slow = users[::2], users[1::2]
    watch = await h.store.subscribe(h.store.keys.transcript_channel)  # as a supervisor's page follows lines
    for n in (2, 3, 4):
        for u in fast:
            await direct.ingest(line(u, n))
        for u in slow:
            await plain.ingest(line(u, n))
    # Only the slow half's follow-ups went through the stream.
    assert await route_all(worker) == len(slow) * 3
    assert direct.routed == {("presale", "assigned"): len(fast) * 3}

    frames = await agent_frames(h)
    k, r = h.store.keys, h.store.client
    for u in users:
        cid = await open_conversation(h, u)
        cust = await r.get(k.identity_of(f"webchat:web:{u}"))
        lines = await transcript(h, cid)
        assert [(m.id, m.text, m.conversation_id, m.customer_id) for m in lines] == [
            (f"m-{u}-{n}", TEXTS[n % len(TEXTS)], cid, cust) for n in (1, 2, 3, 4)], u
        assert lines[1:] == [msgspec.structs.replace(line(u, n), conversation_id=cid, customer_id=cust)
                             for n in (2, 3, 4)], u
        conv = await r.hgetall(k.conv(cid))
        assert (conv["state"], conv["messages"], conv["waiting_on"]) == ("assigned", "4", "agent"), u
        assert [f["message"]["id"] for f in frames[cid]] == [f"m-{u}-{n}" for n in (2, 3, 4)], u
        assert all(f["message"]["text"] == TEXTS[n % len(TEXTS)] for f, n in zip(frames[cid], (2, 3, 4), strict=True))
        assert await r.get(k.inbound_routed(f"webchat:web:{u}")) == "4"
        for n in (2, 3, 4):
            assert await r.exists(k.applied(f"m-{u}-{n}"))
    # The two halves' conversations look alike field by field (times and ids aside).
    a, b = [await r.hgetall(k.conv(await open_conversation(h, u))) for u in (fast[0], slow[0])]
    assert sorted(a) == sorted(b)
    assert await r.xlen(k.inbound) == 0
    # Every follow-up was announced to watchers once, whichever way it went.
    announced: list[str] = []
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:  # until a quiet half second after the first
            got = await watch.next(wait_s=0.5)
            if got is None and announced:
                break
            if got is not None:
                announced.append(got[1])
    finally:
        await watch.close()
    entries = [f"{cid}\n{eid}\n" for u in users
               for cid in [await open_conversation(h, u)]
               for eid, _ in (await r.xrange(k.transcript(cid)))[1:]]
    assert sorted(announced) == sorted(entries)


async def test_a_line_behind_one_still_in_the_stream_waits_its_turn(h: Harness, worker: RouteWorker) -> None:
    direct, plain = Ingestor(h.store, direct=Direct()), Ingestor(h.store)
    users = [f"w{i}" for i in range(100)]
    for u in users:
        await direct.ingest(line(u, 1))
    await route_all(worker)
    for u in users:
        await plain.ingest(line(u, 2))  # in the stream, not routed yet
        await direct.ingest(line(u, 3))  # must not overtake it
    assert direct.routed == {}
    assert await route_all(worker) == 2 * len(users)
    for u in users:
        cid = await open_conversation(h, u)
        assert [m.id for m in await transcript(h, cid)] == [f"m-{u}-{n}" for n in (1, 2, 3)]
    for u in users:  # once caught up, the next line goes straight to the agent again
        await direct.ingest(line(u, 4))
    assert direct.routed == {("presale", "assigned"): len(users)}
    assert await route_all(worker) == 0


async def test_what_needs_a_decision_goes_through_the_stream(h: Harness, worker: RouteWorker) -> None:
    direct = Ingestor(h.store, direct=Direct())
    await direct.ingest(line("new", 1))  # a new customer
    await direct.ingest(line("closed", 1))
    assert await route_all(worker) == 2
    cid = await open_conversation(h, "closed")
    await h.close_conv(cid)
    await direct.ingest(line("closed", 2))  # a closed conversation reopens: the rules decide again
    assert direct.routed == {}
    assert await route_all(worker) == 1
    conv = await h.conv(cid)
    assert conv["state"] == "assigned" and conv["reopened"] == "1"


async def test_a_queued_customer_hears_their_place_again(h: Harness, worker: RouteWorker) -> None:
    for i in range(AGENTS):
        await h.status(f"a{i}", "offline")
    direct = Ingestor(h.store, direct=Direct())
    for u in ("q1", "q2"):
        await direct.ingest(line(u, 1))
    await route_all(worker)
    cid = await open_conversation(h, "q2")
    sub = await h.store.subscribe(h.store.keys.customer_channel)
    try:
        await direct.ingest(line("q2", 2))
        got = None
        for _ in range(3):  # the subscription's confirmation comes first
            got = got or await sub.next(5)
    finally:
        await sub.close()
    assert got is not None
    address, _, frame = got[1].split("\n", 2)
    assert address == "webchat:q2"
    assert json.loads(frame)["type"] == "queue" and json.loads(frame)["position"] == 2
    assert direct.routed == {("presale", "queued"): 1}
    assert (await h.conv(cid))["state"] == "queued"
    assert [m.id for m in await transcript(h, cid)] == ["m-q2-1", "m-q2-2"]


async def test_a_resent_line_is_taken_once(h: Harness, worker: RouteWorker) -> None:
    direct = Ingestor(h.store, direct=Direct())
    await direct.ingest(line("d", 1))
    await route_all(worker)
    first = await direct.ingest(line("d", 2))
    again = await direct.ingest(Message(id="m-other", channel=WEBCHAT, account="web", native_id="d:2",
                                        sender_ref="d", text="在吗"))
    assert again.duplicate and again.message_id == first.message_id == "m-d-2"
    cid = await open_conversation(h, "d")
    assert [m.id for m in await transcript(h, cid)] == ["m-d-1", "m-d-2"]
    assert [f["message"]["id"] for f in (await agent_frames(h))[cid]] == ["m-d-2"]
    assert (await h.conv(cid))["messages"] == "2"
    assert await route_all(worker) == 0


class Profiles:
    def __init__(self) -> None:
        self.scheduled: list[Message] = []

    def schedule(self, msgs: Sequence[Message]) -> None:
        self.scheduled += msgs


async def test_wechat_and_telegram_follow_ups_go_direct_but_a_possible_rating_does_not(
        h: Harness, worker: RouteWorker) -> None:
    profiles = Profiles()
    direct = Ingestor(h.store, direct=Direct(held_back=may_be_rating, profiles=profiles))

    def msg(channel: str, user: str, n: int, text: str) -> Message:
        return Message(id=f"m-{channel}-{user}-{n}", channel=channel, account="shop", native_id=f"{user}-{n}",
                       sender_ref=user, text=text, ts=1_800_000_000.0 + n)

    users = [(ch, f"{ch[0]}{i}") for ch in ("wechat", "telegram") for i in range(50)]
    for ch, u in users:
        await direct.ingest(msg(ch, u, 1, "有M码吗"))
    assert await route_all(worker) == len(users)
    for ch, u in users:
        await direct.ingest(msg(ch, u, 2, "还有L码吗"))
        await direct.ingest(msg(ch, u, 3, "５分"))  # would be a rating after the prompt: the worker decides
    assert direct.routed == {("presale", "assigned"): len(users)}
    assert await route_all(worker) == len(users)
    r, k = h.store.client, h.store.keys
    for ch, u in users:
        cust = await r.get(k.identity_of(f"{ch}:shop:{u}"))
        cid = await r.hget(k.customer(cust), "open")
        assert [m.text for m in await transcript(h, cid)] == ["有M码吗", "还有L码吗", "５分"]
    # The channel profile is refreshed as the route worker would, with the line's conversation.
    assert sorted(m.id for m in profiles.scheduled) == sorted(f"m-{ch}-{u}-2" for ch, u in users)
    assert all(m.conversation_id and m.customer_id for m in profiles.scheduled)


class Bot:
    """The route worker's bot seam: counts wake-ups."""

    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1

    async def queued(self, conversation_id: str, message: Message) -> None:
        pass


async def test_a_line_to_the_bot_waits_for_its_turn_as_through_the_stream(h: Harness) -> None:
    """The bot's pending lines and due time, the same by either door; its stage is woken."""
    bot = Bot()
    worker = RouteWorker(h.store, Transcript(h.store), RulesHolder(RuleSet((), Action(pool="presale", bot_first=True), version="bot-first")),
                         WorkerSettings(block_ms=10, claim_idle_ms=60_000), bot=bot, burst_window_s=30.0)
    await worker.group.ensure()
    direct = Ingestor(h.store, direct=Direct(burst_window_s=30.0, bot_wake=bot.wake))
    plain = Ingestor(h.store)
    users = [f"b{i}" for i in range(100)]
    for u in users:
        await direct.ingest(line(u, 1))
    assert await route_all(worker) == len(users)
    woken = bot.woken
    fast, slow = users[::2], users[1::2]
    for n in (2, 3):
        for u in fast:
            await direct.ingest(line(u, n))
        for u in slow:
            await plain.ingest(line(u, n))
    assert await route_all(worker) == 2 * len(slow)
    assert direct.routed == {("presale", "bot"): 2 * len(fast)}
    assert bot.woken - woken >= 2 * len(fast)
    r, k = h.store.client, h.store.keys
    for u in users:
        cid = await open_conversation(h, u)
        assert (await h.conv(cid))["state"] == "bot"
        pending = [json.loads(p)["id"] for p in await r.lrange(k.bot_pending(cid), 0, -1)]
        assert pending == [f"m-{u}-{n}" for n in (1, 2, 3)], u
        # Due a window after its first line at the latest (the burst's cap), never later.
        due = await r.zscore(k.bot_due, cid)
        assert due is not None and due <= line(u, 1).ts + 4 * 30.0
        assert [m.id for m in await transcript(h, cid)] == [f"m-{u}-{n}" for n in (1, 2, 3)]


async def test_the_conversations_clocks_run_on_the_routers_time_not_the_lines(
        h: Harness, worker: RouteWorker) -> None:
    """A channel's timestamp may be coarse, late or missing: the route worker routes with its own
    clock, and so does the script at ingest."""
    direct = Ingestor(h.store, direct=Direct())
    await direct.ingest(line("t", 1))
    await route_all(worker)
    before = time.time()
    await direct.ingest(msgspec.structs.replace(line("t", 2), ts=0.0))
    assert direct.routed == {("presale", "assigned"): 1}
    conv = await h.conv(await open_conversation(h, "t"))
    assert before <= float(conv["last_in_at"]) <= time.time()
    assert before <= float(conv["updated"]) <= time.time()


async def test_a_line_that_opens_a_conversation_is_resolved_at_ingest(
        h: Harness, worker: RouteWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its resolve rides in the stream entry (field `r`), so the route worker only decides and
    routes it: no resolve script, one round trip fewer a turn. A line with one of its sender's
    still in the stream is resolved by the worker after that one, as before."""
    direct = Ingestor(h.store, direct=Direct())
    k, r = h.store.keys, h.store.client
    users = [f"n{i}" for i in range(CUSTOMERS)]
    for u in users:
        await direct.ingest(line(u, 1))
    await direct.ingest(line(users[0], 2))  # behind its first line, still in the stream
    entries = await r.xrange(k.inbound)
    assert len(entries) == CUSTOMERS + 1
    for _, fields in entries[:CUSTOMERS]:
        ok, cust, cid, state, messages, *_ = json.loads(fields["r"])
        assert (ok, state, messages) == ("ok", "new", "0")
        assert await r.hget(k.conv(cid), "customer") == cust  # there before any worker saw it
    assert "r" not in entries[-1][1]

    calls: list[str] = []
    run_many = h.store.run_many

    async def counted(batch: Sequence[Any]) -> list[Any]:
        calls.extend(type(c).__name__ for c in batch)
        return await run_many(batch)

    monkeypatch.setattr(h.store, "run_many", counted)
    assert await route_all(worker) == CUSTOMERS + 1
    assert calls.count("Resolve") == 1 and calls.count("Route") == CUSTOMERS + 1
    for u in users:
        conv = await h.conv(await open_conversation(h, u))
        assert (conv["state"], conv["messages"]) == ("assigned", "2" if u == users[0] else "1"), u
    assert [m.id for m in await transcript(h, await open_conversation(h, users[0]))] == [
        f"m-{users[0]}-1", f"m-{users[0]}-2"]


async def test_a_carried_resolve_holds_until_the_route(h: Harness, worker: RouteWorker) -> None:
    """Read again after it was routed (a crash before its ack), the line is a duplicate, counted
    once. And what the resolve found, a conversation in `new`, cannot change before the route:
    nothing else moves a conversation out of `new` (router/store/lifecycle.py), not a close."""
    direct = Ingestor(h.store, direct=Direct())
    await direct.ingest(line("again", 1))
    entries = await worker.group.read(10, 10)
    assert "r" in entries[0][1]
    await worker.process(entries)
    routed, outcomes = worker.routed, dict(worker.outcomes)
    assert routed == 1
    await worker.process(entries)  # the same entry once more
    assert (worker.routed, dict(worker.outcomes)) == (routed, outcomes)
    cid = await open_conversation(h, "again")
    assert (await h.conv(cid))["messages"] == "1" and len(await transcript(h, cid)) == 1

    await direct.ingest(line("late", 1))
    entries = await worker.group.read(10, 10)
    _, cust, late, state, *_ = json.loads(entries[0][1]["r"])
    assert state == "new"
    refused = await h.close_conv(late)  # a supervisor's close while the line waits in the stream
    assert refused[0] == "err" and (await h.conv(late))["state"] == "new"
    await worker.process(entries)
    conv = await h.conv(late)
    assert (conv["state"], conv["customer"], conv["messages"]) == ("assigned", cust, "1")
