"""One web chat customer and one agent, as a load run drives them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from typing import Any

import aiohttp

from router.loadgen.tally import Key, Tally

RECONNECT_DELAY_S = (0.2, 1.5)
"""A reconnect waits a random time in this range, so a thousand closed sockets do not all come
back in the same instant."""
CLOSE_AGAIN_S = 5.0
RETRYABLE = frozenset({"unavailable", "internal"})
"""Error codes that mean "not taken, send it again after `retry_after`"."""


def _hint(frame: dict[str, Any]) -> float:
    hint = frame.get("retry_after")
    return float(hint) if isinstance(hint, int | float) and 0 <= hint <= 60 else 2.0


def line_marker(run: str, key: Key) -> str:
    return f"#lg{run}.{key[0]}.{key[1]}"


def answer_marker(run: str, key: Key) -> str:
    return f"#la{run}.{key[0]}.{key[1]}"


def _finder(kind: str, run: str) -> re.Pattern[str]:
    return re.compile(rf"#{kind}{re.escape(run)}\.(\d+)\.(\d+)")


def _key(pattern: re.Pattern[str], text: object) -> Key | None:
    m = pattern.search(text) if isinstance(text, str) else None
    return (int(m.group(1)), int(m.group(2))) if m else None


class _Socket:
    """A WebSocket that reconnects when the server closes it, until `stop`."""

    def __init__(self, http: aiohttp.ClientSession, tally: Tally) -> None:
        self.http = http
        self.tally = tally
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.stopping = False
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resends: set[asyncio.Task[None]] = set()

    def url(self) -> str:
        raise NotImplementedError

    async def on_open(self) -> None:
        """Called on every (re)connect, before frames are read."""

    async def on_frame(self, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self.ws = await self.http.ws_connect(self.url(), heartbeat=None, max_msg_size=0)
        await self.on_open()
        self.ready.set()
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        first = True
        while not self.stopping:
            if not first:
                try:
                    self.ws = await self.http.ws_connect(self.url(), heartbeat=None, max_msg_size=0)
                except (aiohttp.ClientError, OSError, TimeoutError):
                    self.tally.connect_failures += 1
                    await asyncio.sleep(random.uniform(*RECONNECT_DELAY_S))
                    continue
                self.tally.reconnects += 1
                await self.on_open()
                self.ready.set()
            first = False
            assert self.ws is not None
            async for msg in self.ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self.on_frame(json.loads(msg.data))
            self.ready.clear()
            if not self.stopping:
                await asyncio.sleep(random.uniform(*RECONNECT_DELAY_S))

    async def send(self, frame: dict[str, Any]) -> bool:
        """False when the socket is down; the reconnect resends what needs it."""
        ws = self.ws
        if ws is None or ws.closed:
            return False
        try:
            await ws.send_str(json.dumps(frame, ensure_ascii=False))
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            return False
        return True

    def _owned(self) -> list[asyncio.Task[None]]:
        """Tasks a subclass runs beside the socket; cancelled on stop."""
        return []

    def later(self, delay_s: float, frame: dict[str, Any]) -> None:
        """Send `frame` again after `delay_s`, as a page does after a retry hint."""
        task = asyncio.create_task(self._resend(delay_s, frame))
        self._resends.add(task)
        task.add_done_callback(self._resends.discard)

    async def _resend(self, delay_s: float, frame: dict[str, Any]) -> None:
        await asyncio.sleep(delay_s)
        if not self.stopping:
            await self.send(frame)

    async def stop(self) -> None:
        for task in [*self._resends, *self._owned()]:
            task.cancel()
        self.stopping = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 5)


class Customer(_Socket):
    def __init__(self, idx: int, base: str, run: str, script: tuple[str, ...], http: aiohttp.ClientSession,
                 tally: Tally) -> None:
        super().__init__(http, tally)
        self.idx = idx
        self.base = base
        self.run = run
        self.script = script
        self.session = ""
        self.last_seen: str | None = None
        self.unacked: dict[int, dict[str, Any]] = {}
        self.shown: set[Key] = set()
        self._answers = _finder("la", run)

    async def start(self) -> None:
        async with self.http.post(f"{self.base}/api/v1/webchat/sessions", json={"name": f"load {self.idx}"}) as r:
            r.raise_for_status()
            self.session = (await r.json())["session"]
        await super().start()

    def url(self) -> str:
        tail = f"&last_seen={self.last_seen}" if self.last_seen else ""
        return f"{self.base.replace('http', 'ws', 1)}/ws/chat?session={self.session}{tail}"

    async def on_open(self) -> None:
        self.shown = set()
        if self.unacked:  # the same client_msg_id: accepted once
            await self.send(self.unacked[min(self.unacked)])

    async def write(self, seq: int) -> None:
        """Queue a line. Like a page, a customer has one line in flight and sends the next when
        it is acked, so lines arrive in the order written even when some must be sent again."""
        key = (self.idx, seq)
        text = f"{self.script[seq % len(self.script)]} {line_marker(self.run, key)}"
        frame = {"type": "message", "text": text, "client_msg_id": f"{self.run}.{self.idx}.{seq}"}
        self.tally.sent_at.setdefault(key, time.time())
        self.unacked[seq] = frame
        if len(self.unacked) == 1:
            await self.send(frame)

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            seq = int(str(frame.get("client_msg_id", "..-1")).rsplit(".", 1)[-1])
            if self.unacked.pop(seq, None) is not None:
                self.tally.acked.add((self.idx, seq))
                if self.unacked:
                    await self.send(self.unacked[min(self.unacked)])
        elif kind == "message":
            msg = frame.get("message") or {}
            self.last_seen = msg.get("id") or self.last_seen
            key = _key(self._answers, msg.get("text"))
            if key is None:
                return
            if key in self.shown:
                self.tally.duplicates_customer += 1
                return
            self.shown.add(key)
            if key not in self.tally.answered and key in self.tally.replied_at:
                self.tally.answered.add(key)
                self.tally.to_customer_ms.append((time.time() - self.tally.replied_at[key]) * 1000)
        elif kind == "error":
            self.tally.error(f"customer:{frame.get('code')}")
            ref = str(frame.get("ref") or "")
            if frame.get("code") in RETRYABLE and ref:
                # Not taken (the router is busy): the page keeps it and sends it again after the hint.
                seq = int(ref.rsplit(".", 1)[-1])
                if seq in self.unacked:
                    self.later(_hint(frame), self.unacked[seq])


class Agent(_Socket):
    """Answers every line it is shown and closes the chat after the script's last line."""

    def __init__(self, token: str, base: str, run: str, script_len: int, http: aiohttp.ClientSession,
                 tally: Tally, answer: bool = True) -> None:
        super().__init__(http, tally)
        self.token = token
        self.base = base
        self.run = run
        self.script_len = script_len
        self.answer = answer
        self.id = ""
        self.shown: dict[str, set[Key]] = {}
        """Lines shown per conversation on this socket; a new assignment starts it again."""
        self.unacked: dict[str, dict[str, Any]] = {}
        self.to_close: dict[str, set[str]] = {}
        """Chats to close once these answers are acked (a close first would refuse them)."""
        self.closing: set[str] = set()
        """Chats this agent closed and has not yet seen the `closed` frame of."""
        self._closer: asyncio.Task[None] | None = None
        self._lines = _finder("lg", run)

    def url(self) -> str:
        return f"{self.base.replace('http', 'ws', 1)}/ws/agent?token={self.token}"

    def _owned(self) -> list[asyncio.Task[None]]:
        return [self._closer] if self._closer is not None else []

    async def on_open(self) -> None:
        self.shown = {}
        for frame in list(self.unacked.values()):  # the same client_msg_id: stored once
            await self.send(frame)

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            await self._answered(str(frame.get("client_msg_id")))
        elif kind == "hello":
            self.id = frame["agent"]["id"]
        elif kind in ("closed", "unassigned"):
            self.closing.discard(str(frame.get("conversation_id")))
            self.shown.pop(str(frame.get("conversation_id")), None)
        elif kind == "assigned":
            cid = frame["conversation"]["id"]
            self.tally.assigned.setdefault(self.id, set()).add(cid)
            for msg in frame.get("messages") or []:
                if msg.get("from") == "customer":
                    await self._line(cid, msg)
        elif kind == "message":
            msg = frame.get("message") or {}
            if msg.get("from") == "customer":
                await self._line(frame["conversation_id"], msg)
        elif kind == "error":
            ref = str(frame.get("ref") or "")
            self.tally.error(f"agent:{frame.get('code')}")
            if ref not in self.unacked:
                return
            if frame.get("code") in RETRYABLE:
                self.later(_hint(frame), self.unacked[ref])
            else:  # refused for good (the chat moved on meanwhile): the answer is not owed
                idx, seq = ref[1:].rsplit(".", 2)[-2:]
                self.tally.replied_at.pop((int(idx), int(seq)), None)
                await self._answered(ref)

    async def _line(self, cid: str, msg: dict[str, Any]) -> None:
        key = _key(self._lines, msg.get("text"))
        if key is None:
            return
        shown = self.shown.setdefault(cid, set())
        if key in shown:
            self.tally.duplicates_agent += 1
            return
        shown.add(key)
        t = self.tally
        if key not in t.delivered:
            t.delivered.add(key)
            if key in t.sent_at:
                ms = (time.time() - t.sent_at[key]) * 1000
                t.to_agent_ms.append(ms)
                # A chat starts with a customer's first line, and after each close (answering
                # agents close after the script's last line).
                starts = key[1] == 0 or (self.answer and key[1] % self.script_len == 0)
                (t.first_to_agent_ms if starts else t.follow_up_to_agent_ms).append(ms)
        if not self.answer or key in t.replied_at:
            return
        t.replied_at[key] = time.time()
        ref = f"r{self.run}.{key[0]}.{key[1]}"
        self.unacked[ref] = {"type": "reply", "conversation_id": cid, "text": f"好的 {answer_marker(self.run, key)}",
                             "client_msg_id": ref}
        if key[1] % self.script_len == self.script_len - 1:
            waiting = {r for r, f in self.unacked.items() if f.get("conversation_id") == cid}
            self.to_close[cid] = waiting
        await self.send(self.unacked[ref])

    async def _answered(self, ref: str) -> None:
        """An answer is settled (acked, or refused for good); close chats that waited on it."""
        self.unacked.pop(ref, None)
        for cid, waiting in list(self.to_close.items()):
            waiting.discard(ref)
            if not waiting:
                del self.to_close[cid]
                self.closing.add(cid)
                await self.send({"type": "close", "conversation_id": cid})
                if self._closer is None:
                    self._closer = asyncio.create_task(self._close_again())

    async def _close_again(self) -> None:
        """A close has no ack; one the router could not take (busy) is sent again until the
        `closed` frame comes, since an open chat keeps its seat and the queue behind it waits."""
        while not self.stopping:
            await asyncio.sleep(CLOSE_AGAIN_S)
            for cid in list(self.closing):
                await self.send({"type": "close", "conversation_id": cid})
