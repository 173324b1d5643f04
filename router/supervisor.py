"""One supervisor for the long-running loops of a process.

Every loop (route worker, sender, fan-out, timers, rule sync, roster, bot stage) is a `Service`:
a name, `run()` that works until `stop()` is called, and nothing else. The supervisor owns their
tasks, so one error policy holds for all of them:

- a crash is logged with its traceback, and the service is started again after a backoff that
  doubles up to a ceiling (and falls back to the floor once a run has lasted a while);
- a `run()` that returns although nobody asked it to stop counts as a crash;
- readiness is by name: `down()` says which services are not running right now, and why.

Failures of one unit of work (a stream entry, a timer) stay inside the service; the supervisor
is for what escapes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("kefu.supervisor")


class Service(Protocol):
    """A long-running loop: `run()` returns only after `stop()`; it may be run again after a crash."""

    @property
    def name(self) -> str: ...

    async def run(self) -> None: ...

    def stop(self) -> None: ...


class Loop:
    """What most services share: a stop signal, and a wake-up that cuts a wait short."""

    name = "loop"

    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def pause(self, seconds: float) -> None:
        """Wait up to `seconds`, less when woken or stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)


@dataclass(slots=True)
class ServiceState:
    """What the supervisor knows of one service; `reason` is set while it is down."""

    name: str
    up: bool = False
    crashes: int = 0
    reason: str = "not started"


class Supervisor:
    def __init__(self, *, backoff_s: float = 0.5, max_backoff_s: float = 30.0, healthy_after_s: float = 60.0) -> None:
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.healthy_after_s = healthy_after_s
        """A run that lasted this long was healthy: the next crash waits the floor again."""
        self.states: dict[str, ServiceState] = {}
        self._services: list[Service] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def start(self, services: Iterable[Service]) -> None:
        for service in services:
            if service.name in self.states:
                raise ValueError(f"two services named {service.name!r}")
            self.states[service.name] = ServiceState(service.name)
            self._services.append(service)
            self._tasks.append(asyncio.create_task(self._keep(service), name=f"service:{service.name}"))

    def down(self) -> list[ServiceState]:
        """The services not running now, in start order."""
        return [s for s in self.states.values() if not s.up]

    async def _keep(self, service: Service) -> None:
        state = self.states[service.name]
        streak = 0  # crashes since the last healthy run: the backoff doubles with each
        while not self._stopping.is_set():
            began = time.monotonic()
            state.up, state.reason = True, ""
            error: Exception | None = None
            try:
                await service.run()
            except Exception as exc:
                error = exc
            if error is None and self._stopping.is_set():
                break
            failure = "ended on its own" if error is None else f"crashed: {type(error).__name__}: {error}"
            if time.monotonic() - began > self.healthy_after_s:
                streak = 0
            delay = min(self.backoff_s * 2**streak, self.max_backoff_s)
            streak += 1
            state.up, state.reason = False, failure
            state.crashes += 1
            log.error("service %s %s; restarting in %.1f s", service.name, failure, delay, exc_info=error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        state.up, state.reason = False, "stopped"

    async def stop(self, deadline_s: float) -> None:
        """Ask every service to stop, let them finish until the deadline, then cancel the rest."""
        self._stopping.set()
        for service in self._services:
            try:
                service.stop()
            except Exception:
                log.exception("service %s: stop failed", service.name)
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=deadline_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
