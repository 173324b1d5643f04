"""Fan-out: frames from any process reach the WebSockets held by this one.

Scripts publish every agent frame to one pub/sub channel (and keep it in the agent's event
stream), and customer frames to another. Each process subscribes once and hands frames to its
local connections. A connection is a `Tap`: it drops frames it already sent (by stream entry id),
holds live frames back while it replays history, and writes in order through its own queue, so a
slow browser never slows the subscriber. If the subscription drops, every tap replays its stream
from its cursor on resubscribe: pub/sub may lose frames, the streams do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from router.store import Store
from router.store.client import REDIS_ERRORS

log = logging.getLogger("kefu.fanout")

Writer = Callable[[str], Awaitable[None]]
"""Sends one frame's text to the socket; may expand it first (agent 'assigned' frames)."""
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

EVERY_AGENT = "*"
"""The agent channel's address of a frame for every agent socket (a teammate's status: status.lua);
not stored, so never replayed; each socket decides whether its agent may see it."""

_CLOSING: set[asyncio.Future[None]] = set()
"""Closes of stuck sockets in flight: held so they are not collected half-way."""


def _sid(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Tap:
    """One socket's ordered, de-duplicated view of its frames."""

    def __init__(self, address: str, write: Writer, replay: Replayer | None = None,
                 drain: Drain = Drain(), on_stuck: Stuck | None = None) -> None:
        self.address = address
        self.cursor = (0, 0)
        self._write = write
        self._replay = replay
        self._drain = drain
        self._on_stuck = on_stuck
        self.stuck: str | None = None
        """Why this socket was given up on; it takes no more frames."""
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._held: list[tuple[str, str]] | None = []  # None once live
        self._sending_since: float | None = None
        """When the frame being written now began (loop time); None between frames."""
        self._watch: asyncio.TimerHandle | None = None
        self._overdue = False
        self._task = asyncio.create_task(self._pump())

    def offer(self, entry_id: str, frame: str) -> None:
        """Queue a frame unless it was already sent; '-' marks frames that are not stored."""
        if self.stuck is not None:
            return
        if self._held is not None:
            self._held.append((entry_id, frame))
            return
        if entry_id != "-":
            sid = _sid(entry_id)
            if sid <= self.cursor:
                return
            self.cursor = sid
        if self._queue.qsize() >= self._drain.max_queued:
            # A browser that does not read must not hold server memory without bound; stored
            # frames come back by replay when it reconnects, and a page's state by its snapshot.
            self._give_up(f"slow consumer: {self._queue.qsize()} frames not yet sent")
            return
        self._queue.put_nowait(frame)

    def _give_up(self, reason: str) -> None:
        if self.stuck is not None:
            return
        self.stuck = reason
        log.warning("tap %s: %s; closing it", self.address, reason)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
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

    async def _pump(self) -> None:
        """Write the queued frames in order. A frame that takes over `send_timeout_s` gives the
        socket up. The bound is kept by one watchdog timer per tap (`_check`), armed when a write
        starts and none is pending, rather than an `asyncio.timeout` per frame: a timer made and
        cancelled for every frame of every socket showed in the latency profile."""
        loop = asyncio.get_running_loop()
        try:
            while (frame := await self._queue.get()) is not None:
                self._sending_since = loop.time()
                if self._watch is None:
                    self._watch = loop.call_at(self._sending_since + self._drain.send_timeout_s, self._check)
                try:
                    await self._write(frame)
                except (ConnectionError, RuntimeError) as exc:
                    log.debug("tap %s: write failed: %s", self.address, exc)
                    return
                except Exception as exc:
                    self._sending_since = None  # the retries keep their own time bound
                    if not await self._again(frame, exc):
                        return
                finally:
                    self._sending_since = None
        except asyncio.CancelledError:
            if not self._overdue:
                raise
            self._give_up(f"slow consumer: one frame took over {self._drain.send_timeout_s:g} s to send")
        finally:
            if self._watch is not None:
                self._watch.cancel()
                self._watch = None

    def _check(self) -> None:
        """The watchdog: cancel a write that has run past the bound; otherwise wait for the one in
        progress (if any) to reach it. Idle, it lapses, and the next write arms it again."""
        self._watch = None
        since = self._sending_since
        if since is None or self._task.done():
            return
        loop = asyncio.get_running_loop()
        due = since + self._drain.send_timeout_s
        if loop.time() >= due:
            self._overdue = True
            self._task.cancel()
        else:
            self._watch = loop.call_at(due, self._check)

    async def _again(self, frame: str, exc: Exception) -> bool:
        """A frame the writer failed to build or send (Redis busy while an `assigned` frame is
        expanded) is tried again; if it keeps failing the socket is closed, so its client
        reconnects and gets it again (a page replays after `last_seen`, a console's snapshot holds
        every open chat). It is never dropped silently. False once the socket was given up."""
        for delay in RETRY_DELAYS_S:
            log.warning("tap %s: a frame failed, trying again in %.2fs: %s", self.address, delay, exc)
            await asyncio.sleep(delay)
            try:
                async with asyncio.timeout(self._drain.send_timeout_s):
                    await self._write(frame)
                return True
            except (ConnectionError, RuntimeError, TimeoutError):
                return False
            except Exception as again:
                exc = again
        log.error("tap %s: a frame failed %d times: %s", self.address, len(RETRY_DELAYS_S) + 1, exc)
        self._give_up(f"a frame failed {len(RETRY_DELAYS_S) + 1} times: {exc}")
        return False

    async def close(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, 2)


class Hub:
    """Local connections by address, fed from Redis pub/sub."""

    name = "fan-out"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.agents: dict[str, set[Tap]] = defaultdict(set)
        self.customers: dict[str, set[Tap]] = defaultdict(set)
        self.customer_watchers: list[Callable[[str, str], None]] = []
        """Called with (address, frame) for every customer frame, socket or not (queue texts)."""
        self.transcript_watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        """Set when a line lands in the conversation's transcript (supervisors following it:
        router/web/watch_ws.py); all of them after a resubscribe, which may have lost some."""
        self.team_watchers: list[Callable[[str], None]] = []
        """Called with every frame addressed to every agent (a status change: the widgets'
        availability, router/web/availability.py)."""
        self.subscribed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._ever_subscribed = False
        """Held by the hub, not by `run`: after a crash the supervisor calls `run` again, and
        frames published while it was down reach the taps only by their replay."""

    def add_agent(self, aid: str, tap: Tap) -> None:
        self.agents[aid].add(tap)

    def remove_agent(self, aid: str, tap: Tap) -> None:
        self.agents[aid].discard(tap)
        if not self.agents[aid]:
            del self.agents[aid]

    def add_customer(self, address: str, tap: Tap) -> None:
        self.customers[address].add(tap)

    def remove_customer(self, address: str, tap: Tap) -> None:
        self.customers[address].discard(tap)
        if not self.customers[address]:
            del self.customers[address]

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        k = self.store.keys
        while not self._stopping.is_set():
            sub = None
            try:
                sub = await self.store.subscribe(k.agent_channel, k.customer_channel, k.transcript_channel)
                self.subscribed.set()
                if self._ever_subscribed:
                    await self._resync_all()
                self._ever_subscribed = True
                while not self._stopping.is_set():
                    msg = await sub.next(wait_s=1.0)
                    if msg is not None:
                        self._dispatch(*msg)
            except (*REDIS_ERRORS, ConnectionError) as exc:
                self.subscribed.clear()
                log.warning("pub/sub dropped, resubscribing: %s", exc)
                await asyncio.sleep(0.5)
            finally:
                if sub is not None:
                    await sub.close()

    def _dispatch(self, channel: str, data: str) -> None:
        # Every process gets every frame: the address comes first, so a frame for nobody here is
        # dropped before the rest of it is split or copied (most, with several web processes).
        address, _, rest = data.partition("\n")
        if channel == self.store.keys.transcript_channel:
            for landed in self.transcript_watchers.get(address, ()):
                landed.set()
            return
        if channel == self.store.keys.agent_channel and address == EVERY_AGENT:
            frame = rest.partition("\n")[2]
            for heard in self.team_watchers:
                try:
                    heard(frame)
                except Exception:
                    log.exception("team watcher failed")
            for held in list(self.agents.values()):
                for tap in list(held):
                    tap.offer("-", frame)
            return
        if channel == self.store.keys.agent_channel:
            taps = self.agents.get(address)
            if not taps:
                return
        else:
            taps = self.customers.get(address)
            if not taps and not self.customer_watchers:
                return
        entry_id, _, frame = rest.partition("\n")
        if channel != self.store.keys.agent_channel:
            for watch in self.customer_watchers:
                try:
                    watch(address, frame)
                except Exception:
                    log.exception("customer watcher failed on %s", address)
        for tap in list(taps or ()):
            tap.offer(entry_id, frame)

    def watch_transcript(self, cid: str, landed: asyncio.Event) -> None:
        self.transcript_watchers[cid].add(landed)

    def unwatch_transcript(self, cid: str, landed: asyncio.Event) -> None:
        self.transcript_watchers[cid].discard(landed)
        if not self.transcript_watchers[cid]:
            del self.transcript_watchers[cid]

    async def _resync_all(self) -> None:
        for watchers in self.transcript_watchers.values():
            for landed in watchers:
                landed.set()
        for taps in [*self.agents.values(), *self.customers.values()]:
            for tap in list(taps):
                await tap.resync()

    async def close_all(self) -> None:
        for taps in [*self.agents.values(), *self.customers.values()]:
            for tap in list(taps):
                await tap.close()
