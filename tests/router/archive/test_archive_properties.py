"""Property: for random histories of open, reply, transfer (with a note), close, reopen and close,
across two customers at once, the archive's transcript of each conversation is what the agents
and the customer saw, in order, nothing missing and nothing twice; its version counts the
closes. On SQLite and on PostgreSQL, against one router per database that every example shares
(started in a thread of its own, since Hypothesis drives a plain function)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from helpers.app import running
from helpers.clients import Socket, agent, customer, msg_id
from helpers.redis_server import RedisServer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_archive_write import settings as archive_settings

from router.runtime import Runtime

T = TypeVar("T")
AGENTS = {"alice": "alice-token-1234", "bob": "bob-token-12345"}

step = st.tuples(st.sampled_from(["say", "say", "reply", "reply", "transfer", "close"]), st.integers(0, 1))
histories = st.lists(step, min_size=3, max_size=14)


class Live:
    """A router, its two agents' sockets and an HTTP session, on an event loop in a thread."""

    def __init__(self, redis_url: str, archive_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = contextlib.AsyncExitStack()
        self.redis_url, self.archive_url = redis_url, archive_url
        self.n = 0

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def start(self) -> None:
        self.rt, self.base = await self.stack.enter_async_context(
            running(archive_settings(self.archive_url), self.redis_url))
        self.http = await self.stack.enter_async_context(aiohttp.ClientSession())
        self.agents = {name: await agent(self.http, self.base, token) for name, token in AGENTS.items()}
        await asyncio.wait_for(self.rt.archive.ready.wait(), 60)

    async def stop(self) -> None:
        for sock in self.agents.values():
            await sock.close()
        await self.stack.aclose()

    def text(self, what: str) -> str:
        self.n += 1
        return f"{what}{self.n} 订单2024{self.n:08d}"


@dataclass
class Chat:
    """One customer's conversation as the test saw it happen."""

    sock: Socket
    cid: str | None = None
    open: bool = False
    holder: str | None = None
    closes: int = 0
    transcript: list[tuple[str, str]] = field(default_factory=list)
    """(from, text) in order: customer, agent, or note (a transfer's note)."""


def shown(sock: Socket, cid: str, text: str, start: int = 0) -> bool:
    """Whether an agent's socket showed `text` in `cid`, live or in an `assigned` snapshot (a
    transfer's note is inside the router's own words)."""
    for f in sock.frames[start:]:
        if f.get("type") == "message" and f.get("conversation_id") == cid and text in f["message"]["text"]:
            return True
        if f.get("type") == "assigned" and f["conversation"]["id"] == cid and \
                any(text in (m.get("text") or "") for m in f.get("messages", [])):
            return True
    return False


def ours(m: dict[str, Any], said: set[str]) -> tuple[str, str] | None:
    """An archived message as the test wrote it down, or None for one the router added."""
    if m.get("note"):
        return next((("note", t) for t in said if t in m["text"]), None)
    return (m["from"], m["text"]) if m["text"] in said else None


async def until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def play(live: Live, steps: list[tuple[str, int]]) -> list[Chat]:
    chats = [Chat((await customer(live.http, live.base))[0]) for _ in range(2)]
    try:
        for op, who in steps:
            await act(live, chats[who], op)
        for c in chats:  # every history ends closed
            if c.open:
                await act(live, c, "close")
    finally:
        for c in chats:
            await c.sock.close()
    return [c for c in chats if c.cid is not None]


async def act(live: Live, c: Chat, op: str) -> None:
    agents = live.agents
    if op == "say":
        text = live.text("问")
        marks = {name: len(s.frames) for name, s in agents.items()}
        await c.sock.send({"type": "message", "text": text, "client_msg_id": msg_id()})
        if not c.open:  # opens a new conversation, or reopens the closed one
            def assigned() -> str | None:
                for name, s in agents.items():
                    for f in s.frames[marks[name]:]:
                        if f.get("type") == "assigned" and any(m.get("text") == text for m in f["messages"]):
                            c.cid = c.cid or f["conversation"]["id"]
                            return name
                return None
            await until(lambda: assigned() is not None)
            c.holder, c.open = assigned(), True
        else:
            assert c.cid is not None and c.holder is not None
            holder, cid = agents[c.holder], c.cid
            await until(lambda: shown(holder, cid, text, marks[c.holder or ""]))
        c.transcript.append(("customer", text))
    elif op == "reply" and c.open:
        assert c.cid is not None and c.holder is not None
        text = live.text("答")
        start = len(c.sock.frames)
        await agents[c.holder].send({"type": "reply", "conversation_id": c.cid, "text": text, "client_msg_id": msg_id()})
        await c.sock.expect(lambda f: f.get("type") == "message" and f["message"]["text"] == text, start=start,
                            timeout=30)
        c.transcript.append(("agent", text))
    elif op == "transfer" and c.open:
        assert c.cid is not None and c.holder is not None
        to = "bob" if c.holder == "alice" else "alice"
        note = live.text("转")
        target, cid = agents[to], c.cid
        start = len(target.frames)
        await agents[c.holder].send({"type": "transfer", "conversation_id": cid, "to_agent": to, "note": note})
        # The note is in the transcript once the new holder was shown it.
        await until(lambda: shown(target, cid, note, start))
        c.holder = to
        c.transcript.append(("note", note))
    elif op == "close" and c.open:
        assert c.cid is not None and c.holder is not None
        start = len(c.sock.frames)
        await agents[c.holder].send({"type": "close", "conversation_id": c.cid})
        await c.sock.expect(lambda f: f.get("type") == "closed" and f["conversation_id"] == c.cid, start=start,
                            timeout=30)
        c.open, c.closes = False, c.closes + 1


async def check(rt: Runtime, chats: list[Chat]) -> None:
    for c in chats:
        assert c.cid is not None
        cid, closes = c.cid, c.closes
        deadline = time.monotonic() + 60
        while await rt.archive.version(cid) != closes:
            assert time.monotonic() < deadline, f"{cid}: version {await rt.archive.version(cid)}, {closes} closes"
            await asyncio.sleep(0.05)
        row = await rt.archive.conversation(cid)
        assert row is not None and row["reopened"] == closes - 1
        said = {text for _, text in c.transcript}
        got = [o for o in (ours(m, said) for m in row["messages"]) if o is not None]
        assert got == c.transcript, cid
        # Nothing but ours and the router's own notes.
        assert all(ours(m, said) is not None or m.get("note") for m in row["messages"]), row["messages"]
        ids = [m["id"] for m in row["messages"]]
        assert len(ids) == len(set(ids)), "a message archived twice"
        # What the customer saw of the agents, in order, is the archive's agent lines.
        seen = [f["message"]["text"] for f in c.sock.frames
                if f.get("type") == "message" and f["message"].get("from") == "agent"]
        assert seen == [text for who, text in c.transcript if who == "agent"]


def run_property(redis_server: RedisServer, archive_url: str) -> None:
    live = Live(redis_server.url, archive_url)
    live.run(live.start())
    try:
        # Each example is whole conversations over sockets: a dozen, unshrunk (a failure prints
        # its history, which is short), keep both databases within a minute on a busy machine.
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate])
        @given(steps=histories)
        def prop(steps: list[tuple[str, int]]) -> None:
            chats = live.run(play(live, steps))
            live.run(check(live.rt, chats))

        prop()
    finally:
        live.run(live.stop())
        live.loop.call_soon_threadsafe(live.loop.stop)
        live.thread.join(10)


def test_the_archive_holds_what_was_said_over_random_histories(redis_server: RedisServer,
                                                                 archive_url: str) -> None:
    run_property(redis_server, archive_url)
