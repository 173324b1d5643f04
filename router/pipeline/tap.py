"""A `Tap`: one socket's ordered, de-duplicated view of the frames the hub (fanout.py) hands it.

It drops frames it already sent (by stream entry id), holds live frames back while it replays
history, and writes in order through its own queue, so a slow browser never slows the
subscriber; a frame that fails is tried again, and a socket that does not drain is closed, so
its client reconnects and replays. It is never dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("kefu.fanout")

Writer = Callable[[str], "str | Awaitable[None] | None"]
"""What one frame becomes, decided at once: the text to send on the socket (a str), nothing (None:
a frame shown already, or one for the server), or the writer's own work that may wait (an agent's
`assigned` frame expanded from Redis), which sends what it sends itself and runs in the socket's
pump task."""
Send = Callable[[str], Coroutine[Any, Any, None]]
"""The socket's send (aiohttp's `send_str`). The tap starts it in the offering task and its pump
finishes it if it has to wait, so it must not enter anything bound to the task it began in (an
`asyncio.timeout`) before its first wait; aiohttp's does not (a drain, a compression lock)."""


def as_is(frame: str) -> str:
    """The writer of a socket that gets every frame as published (the web chat's)."""
    return frame
Replayer = Callable[["Tap", str], Awaitable[None]]
"""Re-reads the tap's stream after a cursor and feeds it through `Tap.offer`."""
Stuck = Callable[[str], Awaitable[None]]
"""Closes a socket that does not drain, with the reason; its client reconnects and replays."""


@dataclass(frozen=True, slots=True)
class Drain:
    """How far a socket may fall behind before it is closed (`limits` in the config)."""

    max_queued: int = 1000
    send_timeout_s: float = 30.0


RETRY_DELAYS_S = (0.05, 0.2, 0.5, 1.0, 2.0)
"""Between tries of a frame that failed: about 4 s in all, more than a burst holds the Redis pool."""

_CLOSING: set[asyncio.Future[None]] = set()
"""Closes of stuck sockets in flight: held so they are not collected half-way."""


def _sid(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Tap:
    """One socket's ordered, de-duplicated view of its frames.

    A frame offered to an idle socket is written at once, in the offering task (the hub's): a
    WebSocket send almost never has to wait, and handing every frame to a task of the socket's own
    cost it a turn of the event loop (a wake-up, a select call) on top of its write (the delivery
    benchmark, bench/bench_fanout.py, in docs/performance.md). A write that does have to wait (a
    socket whose buffer is full, an `assigned` frame read from Redis first) is finished by the
    socket's pump task, and frames offered meanwhile queue behind it, so each socket's order holds
    and the hub never waits."""

    def __init__(self, address: str, write: Writer, send: Send, replay: Replayer | None = None,
                 drain: Drain = Drain(), on_stuck: Stuck | None = None) -> None:
        self.address = address
        self.cursor = (0, 0)
        self._write = write
        self._send = send
        self._replay = replay
        self._drain = drain
        self._on_stuck = on_stuck
        self.stuck: str | None = None
        """Why this socket was given up on; it takes no more frames."""
        self._queue: deque[str] = deque()
        """Frames waiting behind a write in progress (the pump's)."""
        self._pump_task: asyncio.Task[None] | None = None
        """Runs while a write waits or frames queue behind it; None when the socket is idle."""
        self._writing = False
        """A write runs in the offering task now: an offer from inside it queues."""
        self._ended = False
        """A write failed with the connection: nothing more is written (frames queue up to the
        bound, as behind a socket that stopped reading, until the socket's handler ends)."""
        self._closed = False
        self._held: list[tuple[str, str]] | None = []  # None once live
        self._sending_since: float | None = None
        """When the write in progress began (loop time); None between writes."""
        self._watch: asyncio.TimerHandle | None = None
        self._overdue = False

    def offer(self, entry_id: str, frame: str) -> None:
        """Send a frame unless it was already sent; '-' marks frames that are not stored."""
        if self.stuck is not None or self._closed:
            return
        if self._held is not None:
            self._held.append((entry_id, frame))
            return
        if entry_id != "-":
            sid = _sid(entry_id)
            if sid <= self.cursor:
                return
            self.cursor = sid
        if self._pump_task is None and not self._writing and not self._ended:
            self._write_now(frame)
            return
        if len(self._queue) >= self._drain.max_queued:
            # A browser that does not read must not hold server memory without bound; stored
            # frames come back by replay when it reconnects, and a page's state by its snapshot.
            self._give_up(f"slow consumer: {len(self._queue)} frames not yet sent")
            return
        self._queue.append(frame)

    def _write_now(self, frame: str) -> None:
        """Send in this task as far as the send goes without waiting; the rest of it, a writer's
        own work, and the frames queued meanwhile go to the pump task."""
        self._writing = True
        try:
            while True:
                try:
                    out = self._write(frame)
                except Exception as exc:
                    self._start_pump(frame, self._again(frame, None, exc), retrying=True)
                    return
                if out is not None and not isinstance(out, str):
                    self._start_pump(frame, out, retrying=False)
                    return
                if out is not None:
                    coro = self._send(out)
                    try:
                        waiting_on = coro.send(None)
                    except StopIteration:
                        pass
                    except (ConnectionError, RuntimeError) as exc:
                        self._end(exc)
                        return
                    except Exception as exc:
                        self._start_pump(frame, self._again(frame, out, exc), retrying=True, text=out)
                        return
                    else:
                        self._start_pump(frame, _Rest(coro, waiting_on), retrying=False, text=out)
                        return
                if not self._queue or self.stuck is not None:
                    return
                frame = self._queue.popleft()  # offered from inside the write
        finally:
            self._writing = False

    def _start_pump(self, frame: str, step: Awaitable[bool | None], retrying: bool,
                    text: str | None = None) -> None:
        self._pump_task = asyncio.ensure_future(self._pump(frame, step, retrying, text))

    def _end(self, exc: BaseException) -> None:
        log.debug("tap %s: write failed: %s", self.address, exc)
        self._ended = True

    def _give_up(self, reason: str) -> None:
        if self.stuck is not None:
            return
        self.stuck = reason
        log.warning("tap %s: %s; closing it", self.address, reason)
        self._queue.clear()
        if self._on_stuck is not None:
            task = asyncio.ensure_future(self._on_stuck(reason))
            _CLOSING.add(task)
            task.add_done_callback(_CLOSING.discard)

    def replayed(self, entries: list[tuple[str, str]]) -> None:
        """Feed stream entries read from Redis; during the first replay they go before any live
        frame held meanwhile, so the socket sees history in order."""
        if self._held is not None:
            self._held[0:0] = entries
        else:
            for entry_id, frame in entries:
                self.offer(entry_id, frame)

    def start_at(self, entry_id: str) -> None:
        self.cursor = max(self.cursor, _sid(entry_id))

    def go_live(self) -> None:
        """Replay is done: release held frames newer than what replay sent."""
        held, self._held = self._held or [], None
        for entry_id, frame in held:
            self.offer(entry_id, frame)

    async def resync(self) -> None:
        if self._replay is not None:
            await self._replay(self, f"{self.cursor[0]}-{self.cursor[1]}")

    async def _pump(self, frame: str, step: Awaitable[bool | None] | None, retrying: bool, text: str | None) -> None:
        """Finish `step` (the rest of `frame`'s write, or its retries; `text`, what it sends), then
        write the frames queued behind it, in order, until none is left. A write that takes over
        `send_timeout_s` gives the socket up. The bound is kept by one watchdog timer per tap
        (`_check`), armed when a write starts and none is pending, rather than an `asyncio.timeout`
        per frame: a timer made and cancelled for every frame of every socket showed in the
        latency profile."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not retrying:  # the retries keep their own time bound
                    self._sending_since = loop.time()
                    if self._watch is None:
                        self._watch = loop.call_at(self._sending_since + self._drain.send_timeout_s, self._check)
                try:
                    if step is not None and await step is False:  # the retries gave the socket up
                        return
                except (ConnectionError, RuntimeError) as exc:
                    self._end(exc)
                    return
                except Exception as exc:
                    step, retrying = self._again(frame, text, exc), True
                    continue
                finally:
                    self._sending_since = None
                if not self._queue or self.stuck is not None or self._ended:
                    return
                frame, text, retrying = self._queue.popleft(), None, False
                try:
                    out = self._write(frame)
                except Exception as exc:
                    step, retrying = self._again(frame, None, exc), True
                    continue
                if isinstance(out, str):
                    text, step = out, self._send(out)
                else:
                    step = out
        except asyncio.CancelledError:
            if not self._overdue:
                raise
            self._give_up(f"slow consumer: one frame took over {self._drain.send_timeout_s:g} s to send")
        finally:
            self._pump_task = None
            if self._watch is not None:
                self._watch.cancel()
                self._watch = None

    def _check(self) -> None:
        """The watchdog: cancel a write that has run past the bound; otherwise wait for the one in
        progress (if any) to reach it. Idle, it lapses, and the next write arms it again."""
        self._watch = None
        since = self._sending_since
        task = self._pump_task
        if since is None or task is None or task.done():
            return
        loop = asyncio.get_running_loop()
        due = since + self._drain.send_timeout_s
        if loop.time() >= due:
            self._overdue = True
            task.cancel()
        else:
            self._watch = loop.call_at(due, self._check)

    async def _again(self, frame: str, text: str | None, exc: Exception) -> bool:
        """A frame the writer failed to build or send (Redis busy while an `assigned` frame is
        expanded) is tried again; if it keeps failing the socket is closed, so its client
        reconnects and gets it again (a page replays after `last_seen`, a console's snapshot holds
        every open chat). It is never dropped silently. `text`: the writer had made the frame into
        this text and its send failed: only the send is tried again (the writer took the frame
        for shown). False once the socket was given up."""
        for delay in RETRY_DELAYS_S:
            log.warning("tap %s: a frame failed, trying again in %.2fs: %s", self.address, delay, exc)
            await asyncio.sleep(delay)
            try:
                async with asyncio.timeout(self._drain.send_timeout_s):
                    if text is None:
                        out = self._write(frame)
                        if out is None:
                            return True
                        if not isinstance(out, str):
                            await out
                            return True
                        text = out  # taken for shown now: from here on only its send is tried
                    await self._send(text)
                return True
            except (ConnectionError, RuntimeError, TimeoutError) as again:
                self._end(again)
                return False
            except Exception as again:
                exc = again
        log.error("tap %s: a frame failed %d times: %s", self.address, len(RETRY_DELAYS_S) + 1, exc)
        self._give_up(f"a frame failed {len(RETRY_DELAYS_S) + 1} times: {exc}")
        return False

    async def close(self) -> None:
        """Let the frames already taken go out (for up to 2 s), then take no more."""
        task = self._pump_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), 2)
            task.cancel()
        self._closed = True
        self._queue.clear()


class _Rest:
    """The rest of a write coroutine that `Tap._write_now` started by hand and that stopped on
    `waiting_on`: awaited in the pump task, it hands the task what the coroutine waits on, and
    passes the task's wake-up (or its cancellation) back into it, as if the task had run it from
    the start."""

    def __init__(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coro, waiting_on = self._coro, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except BaseException as exc:  # the task's cancellation, thrown in at the wait
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration:
                    return
                continue
            try:
                waiting_on = coro.send(sent)
            except StopIteration:
                return
