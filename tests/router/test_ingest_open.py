"""A new visitor's first line decided before it is taken in and routed in the same step
(router/store/lua/ingest_open.lua): the same conversation, customer, decision record, transcript
and agent's frame as through the inbound stream and the route worker, with no inbound entry; and
the decision is used only while the sender is still unknown to the router."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from assign_harness import Harness, on_server
from helpers.workers import route_all

from router.config.schema import WorkerSettings
from router.models import WEBCHAT, Message, decode_message
from router.pipeline.ingest import Direct, Ingestor
from router.pipeline.transcript import Transcript
from router.pipeline.worker import RouteWorker
from router.rules.holder import RulesHolder
from routing_rules.check import compile_rules
from routing_rules.model import Decision, RuleInput

AGENTS = 30
VISITORS = 300
CONFIG = "pools:\n  - id: presale\n  - id: vip\n  - id: aftersale\nagents:\n" + "".join(
    f"  - id: a{i}\n    token: token-a{i}-xxxxxxxx\n    pools: [presale, vip, aftersale]\n    max_chats: 30\n"
    for i in range(AGENTS))
# What a first line's decision may rest on: its text, and the customer's facts, which a sender
# never seen has only as defaults (a returning customer is decided on theirs).
RULES = """
default: {pool: presale}
rules:
  - name: returning
    when: {segment: returning}
    then: {pool: vip, priority: high, tags: [again]}
  - name: refund
    when: {contains: 退款}
    then: {pool: aftersale, tags: [refund]}
"""
TEXTS = ('在吗', 'say "hi"\\n\nok', '我要退款', '这件有M码吗？😀')


def line(user: str, n: int, text: str | None = None) -> Message:
    return Message(id=f"m-{user}-{n}", channel=WEBCHAT, account="web", native_id=f"{user}:{n}",
                   sender_ref=user, text=text if text is not None else TEXTS[zlib.crc32(user.encode()) % len(TEXTS)],
                   ts=1_800_000_000.0 + n)


@pytest.fixture(params=["6.2", "7"])
async def h(request: pytest.FixtureRequest, redis_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    async with on_server(request.param, redis_url, tmp_path, CONFIG, AGENTS) as harness:
        yield harness


def rules() -> RulesHolder:
    return RulesHolder(compile_rules(RULES, pools=("presale", "vip", "aftersale")))


@pytest.fixture
async def worker(h: Harness) -> RouteWorker:
    w = RouteWorker(h.store, Transcript(h.store), rules(), WorkerSettings(block_ms=10, claim_idle_ms=60_000))
    await w.group.ensure()
    return w


async def inbound_ever(h: Harness) -> str:
    """The inbound stream's last generated id: '0-0' while no entry was ever added."""
    if not await h.store.client.exists(h.store.keys.inbound):
        return "0-0"
    info = await h.store.client.execute_command("XINFO", "STREAM", h.store.keys.inbound)
    fields = dict(zip(info[::2], info[1::2], strict=True))
    return str(fields["last-generated-id"])


async def customer_of(h: Harness, user: str) -> str | None:
    got = await h.store.client.get(h.store.keys.identity_of(f"webchat:web:{user}"))
    return None if got is None else str(got)


async def assigned_frames(h: Harness) -> dict[str, dict[str, Any]]:
    """Each conversation's `assigned` event (as the agent's event stream holds it: the console
    reads the conversation's view for the frame it shows)."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(AGENTS):
        for _, f in await h.store.client.xrange(h.store.keys.agent_events(f"a{i}")):
            frame = json.loads(f["f"])
            if frame["type"] == "assigned":
                out[frame["conversation_id"]] = frame
    return out


def comparable(conv: dict[str, str]) -> dict[str, Any]:
    """A conversation's fields without its ids and times, its decision record without its time,
    its assignment record as the chosen candidate's reason."""
    out: dict[str, Any] = {k: v for k, v in conv.items()
                           if k not in ("id", "customer", "created", "updated", "last_in_at", "queued_at",
                                        "assigned_at", "agent", "sla_due", "sla_started", "chat")
                           and not k.endswith("_at")}
    record = json.loads(out.pop("decision"))
    record.pop("decided_at")
    out["decision"] = record
    # Which agent and at what load differs from one to the next; that it was chosen does not.
    out["assignment"] = json.loads(out["assignment"])["candidates"][0]["reason"]
    return out


async def test_new_visitors_first_lines_open_at_ingest_as_the_route_worker_would(
        h: Harness, worker: RouteWorker) -> None:
    users = [f"v{i}" for i in range(VISITORS)]
    fast, slow = users[::2], users[1::2]
    door = Ingestor(h.store, direct=Direct(rules=rules()))
    for u in fast:
        assert not (await door.ingest(line(u, 1), new_sender=True)).duplicate
    assert await inbound_ever(h) == "0-0"  # none of them went through the stream
    for u in slow:
        await door.ingest(line(u, 1))
    assert await route_all(worker) == len(slow)
    expected = {}
    for u in fast:
        pool = "aftersale" if "退款" in line(u, 1).text else "presale"
        expected[(pool, "assigned")] = expected.get((pool, "assigned"), 0) + 1
    assert door.routed == expected

    r, k = h.store.client, h.store.keys
    frames = await assigned_frames(h)
    seen: dict[str, dict[str, Any]] = {}
    for u in users:
        cust = await customer_of(h, u)
        assert cust is not None
        cid = str(await r.hget(k.customer(cust), "open"))
        conv = await h.conv(cid)
        assert conv["state"] == "assigned" and conv["customer"] == cust and conv["messages"] == "1", u
        assert (await r.hgetall(k.customer(cust)))["segment"] == "new"
        lines = [decode_message(f["m"]) for _, f in await r.xrange(k.transcript(cid))]
        assert [(m.id, m.text, m.conversation_id, m.customer_id) for m in lines] == [
            (f"m-{u}-1", line(u, 1).text, cid, cust)], u
        # The agent's frame carries the line and the conversation, whichever door it came in by.
        frame = frames.pop(cid)
        assert (frame["message"]["id"], frame["message"]["text"], frame["customer_id"]) == (
            f"m-{u}-1", line(u, 1).text, cust), u
        assert sorted(frame) == ["conversation_id", "customer_id", "message", "type"]
        assert await r.exists(k.applied(f"m-{u}-1"))
        assert await r.get(k.inbound_routed(f"webchat:web:{u}")) == "1"
        seen[u] = comparable(conv)
    # A fast and a slow visitor with the same text have the same conversation, field by field.
    for text in TEXTS:
        a = [seen[u] for u in fast if line(u, 1).text == text]
        b = [seen[u] for u in slow if line(u, 1).text == text]
        if a and b:
            assert a[0] == b[0], text
    # Their next lines go straight to their agents, as anyone's.
    for u in fast:
        await door.ingest(line(u, 2, "还在吗"))
    assert await route_all(worker) == 0
    assert await inbound_ever(h) != "0-0"


async def test_a_sender_known_by_then_is_decided_on_their_facts(h: Harness, worker: RouteWorker) -> None:
    """The socket thought the visitor new, but they had a conversation (closed an hour ago, beyond
    the reopen window): the script writes nothing, and the route worker decides with `returning`."""
    door = Ingestor(h.store, direct=Direct(rules=rules()))
    h.now = time.time() - 3600  # the harness's clock, which the closes run on
    users = [f"r{i}" for i in range(100)]
    for u in users:
        await door.ingest(line(u, 1, "在吗"), new_sender=True)
    r, k = h.store.client, h.store.keys
    for u in users:
        cust = await customer_of(h, u)
        await h.close_conv(str(await r.hget(k.customer(str(cust)), "open")))
    before = dict(door.routed)
    for u in users:
        await door.ingest(line(u, 2, "在吗"), new_sender=True)
    assert door.routed == before  # none opened at ingest
    assert await route_all(worker) == len(users)
    for u in users:
        cust = str(await customer_of(h, u))
        cid = str(await r.hget(k.customer(cust), "open"))
        conv = await h.conv(cid)
        assert (conv["pool"], json.loads(conv["decision"])["rule"]) == ("vip", "returning"), u
        assert [m.id for m in [decode_message(f["m"]) for _, f in await r.xrange(k.transcript(cid))]] == [
            f"m-{u}-2"]


async def test_a_line_behind_one_still_in_the_stream_keeps_its_order(h: Harness, worker: RouteWorker) -> None:
    door, plain = Ingestor(h.store, direct=Direct(rules=rules())), Ingestor(h.store)
    users = [f"o{i}" for i in range(100)]
    for u in users:
        await plain.ingest(line(u, 1, "在吗"))  # in the stream, not routed yet
        await door.ingest(line(u, 2, "我要退款"), new_sender=True)  # must neither overtake it nor open another
    assert door.routed == {}
    assert await route_all(worker) == 2 * len(users)
    r, k = h.store.client, h.store.keys
    for u in users:
        cid = str(await r.hget(k.customer(str(await customer_of(h, u))), "open"))
        assert [decode_message(f["m"]).id for _, f in await r.xrange(k.transcript(cid))] == [f"m-{u}-1", f"m-{u}-2"]
        assert (await h.conv(cid))["pool"] == "presale"  # decided on its first line


async def test_a_resent_first_line_is_taken_once(h: Harness, worker: RouteWorker) -> None:
    door = Ingestor(h.store, direct=Direct(rules=rules()))
    first = await door.ingest(line("d", 1), new_sender=True)
    again = await door.ingest(Message(id="m-other", channel=WEBCHAT, account="web", native_id="d:1",
                                      sender_ref="d", text="在吗"), new_sender=True)
    assert again.duplicate and again.message_id == first.message_id == "m-d-1"
    r, k = h.store.client, h.store.keys
    cust = str(await customer_of(h, "d"))
    cid = str(await r.hget(k.customer(cust), "open"))
    assert [decode_message(f["m"]).id for _, f in await r.xrange(k.transcript(cid))] == ["m-d-1"]
    assert (await h.conv(cid))["messages"] == "1"
    assert len(await assigned_frames(h)) == 1
    assert await route_all(worker) == 0


class Bot:
    """The bot's seams: wake-ups, and the off-hours notices of conversations queued for people."""

    def __init__(self) -> None:
        self.woken = 0
        self.notices: list[tuple[str, Message]] = []

    def wake(self) -> None:
        self.woken += 1

    async def queued(self, conversation_id: str, message: Message) -> None:
        self.notices.append((conversation_id, message))


async def test_a_bot_first_decision_hands_the_line_to_the_bot(h: Harness) -> None:
    bot = Bot()
    holder = RulesHolder(compile_rules("default: {pool: presale, bot: true}\n", pools=("presale",)))
    door = Ingestor(h.store, direct=Direct(rules=holder, bot_first=True, bot_wake=bot.wake, burst_window_s=5.0))
    off = Ingestor(h.store, direct=Direct(rules=holder, bot_first=False))  # the bot is off: to people
    for i in range(100):
        await door.ingest(line(f"b{i}", 1, "在吗"), new_sender=True)
        await off.ingest(line(f"p{i}", 1, "在吗"), new_sender=True)
    assert door.routed == {("presale", "bot"): 100} and bot.woken == 100
    assert off.routed == {("presale", "assigned"): 100}
    r, k = h.store.client, h.store.keys
    for i in range(100):
        cid = str(await r.hget(k.customer(str(await customer_of(h, f"b{i}"))), "open"))
        assert (await h.conv(cid))["state"] == "bot"
        assert [json.loads(p)["id"] for p in await r.lrange(k.bot_pending(cid), 0, -1)] == [f"m-b{i}-1"]
        assert await r.zscore(k.bot_due, cid) is not None
    assert await inbound_ever(h) == "0-0"


async def test_a_new_conversation_queued_for_people_gets_the_bots_notice(h: Harness) -> None:
    for i in range(AGENTS):
        await h.status(f"a{i}", "offline")
    bot = Bot()
    door = Ingestor(h.store, direct=Direct(rules=rules(), bot_first=True, queued=bot.queued))
    for i in range(100):
        await door.ingest(line(f"q{i}", 1, "在吗"), new_sender=True)
    assert door.routed == {("presale", "queued"): 100}
    assert len(bot.notices) == 100
    for i, (cid, m) in enumerate(bot.notices):
        cust = str(await customer_of(h, f"q{i}"))
        assert (m.id, m.conversation_id, m.customer_id) == (f"m-q{i}-1", cid, cust)
        assert (await h.conv(cid))["state"] == "queued"
    assert await h.queue("presale") == [cid for cid, _ in bot.notices]
    # A follow-up to a queued conversation is no new conversation: no second notice.
    await door.ingest(line("q0", 2, "还在吗"), new_sender=True)
    assert len(bot.notices) == 100


class Failing:
    """Rules that fail on every line."""

    @property
    def current(self) -> Failing:
        return self

    def decide(self, inp: RuleInput) -> Decision:
        raise ValueError("a rule that fails")


async def test_rules_that_fail_at_ingest_leave_the_line_to_the_route_worker(
        h: Harness, worker: RouteWorker) -> None:
    door = Ingestor(h.store, direct=Direct(rules=Failing()))
    for i in range(100):
        assert not (await door.ingest(line(f"f{i}", 1, "在吗"), new_sender=True)).duplicate
    assert door.routed == {}
    assert await route_all(worker) == 100  # the worker's own rules decide, and count any failure
    r, k = h.store.client, h.store.keys
    for i in range(100):
        cid = str(await r.hget(k.customer(str(await customer_of(h, f"f{i}"))), "open"))
        assert (await h.conv(cid))["state"] == "assigned"
