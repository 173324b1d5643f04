"""Calls made at nearly the same moment go to Redis in one pipeline.

At the peak many coroutines each run one script call: every web chat line its ingest, every
assignment its queue-moved notice. One await each is one write and one read on a socket each:
the largest single item of a profile at the peak (docs/performance.md). A `Coalescer` holds
the calls that arrive while the event loop is busy with other work and sends them together
once the loop comes round to it; a caller still gets its own result or its own error. When
calls come one at a time nothing waits: the batch is that one call, sent on the next turn of
the loop. The first call of a batch starts the task that sends it, and that task takes whatever
came meanwhile when it first runs: the batch is the same as a flush scheduled for the next turn
would gather, one turn earlier (a flush that then started the sending task cost a second turn,
which at a peak is every line's wait for a whole round of the loop's other work).

A caller may give a time limit (`timeout_s`; an ingest has its channel's deadline). The limit is
kept per batch, one timer for each distinct limit in it, not one per caller: at the peak a
timer per message was 8% of a process's samples (docs/performance.md). A caller whose limit
passes gets TimeoutError while the pipeline goes on, as with `asyncio.timeout`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from router.store.calls import Call

R = TypeVar("R")

MAX_BATCH = 256
"""Longer batches are split: one huge pipeline would hold a connection and Redis for longer
than the callers at its end gain."""


class Coalescer:
    def __init__(self, run_many: Callable[[Sequence[Call[Any]]], Awaitable[list[Any]]]) -> None:
        self._run_many = run_many
        self._pending: list[tuple[Call[Any], asyncio.Future[Any], float | None]] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.calls = 0

    async def run(self, call: Call[R], timeout_s: float | None = None) -> R:
        """The call's result, as `Store.run` gives it; its refusal or Redis error is raised, and
        TimeoutError when `timeout_s` passes first (the call may still take effect)."""
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((call, fut, timeout_s))
        if not self._scheduled:
            self._scheduled = True
            self._start(self._flush())
        return await fut

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self) -> None:
        """Send what is pending now: the first batch in this task, any further ones (past
        MAX_BATCH) side by side in their own."""
        self._scheduled = False
        batches = [self._pending[i:i + MAX_BATCH] for i in range(0, len(self._pending), MAX_BATCH)]
        self._pending = []
        for batch in batches[1:]:
            self._start(self._send(batch))
        await self._send(batches[0])

    async def _send(self, batch: list[tuple[Call[Any], asyncio.Future[Any], float | None]]) -> None:
        live = [(c, f) for c, f, _ in batch if not f.done()]  # a caller that gave up no longer waits
        if not live:
            return
        self.batches += 1
        self.calls += len(live)
        limits: dict[float, list[asyncio.Future[Any]]] = {}
        for _, f, limit in batch:
            if limit is not None and not f.done():
                limits.setdefault(limit, []).append(f)
        loop = asyncio.get_running_loop()
        timers = [loop.call_later(limit, _expire, futs) for limit, futs in limits.items()]
        try:
            results = await self._run_many([c for c, _ in live])
        except BaseException as exc:  # the whole pipeline failed (connection, pool timeout): each caller's error
            for _, f in live:
                if not f.done():
                    f.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            for timer in timers:
                timer.cancel()
        for (_, f), res in zip(live, results, strict=True):
            if f.done():
                continue
            if isinstance(res, Exception):
                f.set_exception(res)
            else:
                f.set_result(res)


def _expire(futures: list[asyncio.Future[Any]]) -> None:
    for f in futures:
        if not f.done():
            f.set_exception(TimeoutError())
