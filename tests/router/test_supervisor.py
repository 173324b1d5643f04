"""One supervisor for the long-running loops: a crash is logged with its traceback and restarted
with backoff, /readyz names the service that is down, and a failed start closes what it opened."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import aiohttp
import pytest
from helpers.app import basic_settings, running

from router.runtime import Runtime
from router.supervisor import Supervisor


class Flaky:
    """Crashes `crashes` times, then runs until stopped."""

    def __init__(self, name: str, crashes: int) -> None:
        self.name = name
        self.crashes = crashes
        self.runs = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self.runs += 1
        if self.runs <= self.crashes:
            raise RuntimeError(f"{self.name} broke on run {self.runs}")
        await self._stop.wait()

    def stop(self) -> None:
        self._stop.set()


class Quitter:
    """Returns at once, although nobody asked it to stop."""

    name = "quitter"

    def __init__(self) -> None:
        self.runs = 0

    async def run(self) -> None:
        self.runs += 1

    def stop(self) -> None:
        pass


async def until(check: object, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_crash_is_logged_with_traceback_and_restarted_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    sup = Supervisor(backoff_s=0.05, max_backoff_s=0.2)
    flaky, steady, quitter = Flaky("flaky", crashes=3), Flaky("steady", crashes=0), Quitter()
    with caplog.at_level(logging.ERROR, logger="kefu.supervisor"):
        sup.start([flaky, steady, quitter])
        await until(lambda: flaky.runs == 4 and sup.states["flaky"].up)
        await until(lambda: quitter.runs >= 3)
    assert sup.states["flaky"].crashes == 3
    assert sup.states["steady"].up and sup.states["steady"].crashes == 0
    crashes = [r for r in caplog.records if "service flaky crashed" in r.getMessage()]
    assert len(crashes) == 3
    assert crashes[0].exc_info is not None and "broke on run 1" in str(crashes[0].exc_info[1])
    # Each wait doubles: 0.05, 0.1, 0.2 (the ceiling).
    assert [m.split("restarting in ")[1] for m in (r.getMessage() for r in crashes)] == ["0.1 s", "0.1 s", "0.2 s"]
    assert any("service quitter ended on its own" in r.getMessage() for r in caplog.records)
    await sup.stop(2)
    assert [s.reason for s in sup.states.values()] == ["stopped"] * 3


async def test_down_names_the_service_and_why() -> None:
    sup = Supervisor(backoff_s=30)
    sup.start([Flaky("route worker", crashes=1), Flaky("sender", crashes=0)])
    await until(lambda: sup.states["sender"].up and bool(sup.down()))
    [down] = sup.down()
    assert down.name == "route worker"
    assert down.reason == "crashed: RuntimeError: route worker broke on run 1"
    await sup.stop(2)  # a service waiting out its backoff stops at once


async def test_readyz_names_the_crashed_service_then_recovers(redis_url: str) -> None:
    async with running(basic_settings(), redis_url) as (rt, base), aiohttp.ClientSession() as http:
        async with http.get(f"{base}/readyz") as resp:
            assert resp.status == 200
            assert (await resp.json()) == {"status": "ready", "dead_letters": {"inbound": 0, "outbound": 0, "archive": 0}}
        rt.supervisor.backoff_s = 0.5
        real_read = rt.worker.group.read

        async def broken(count: int, block_ms: int) -> list[tuple[str, dict[str, str]]]:
            raise RuntimeError("disk on fire")

        rt.worker.group.read = broken  # type: ignore[method-assign]
        body: dict[str, object] = {}
        for _ in range(200):
            async with http.get(f"{base}/readyz") as resp:
                body = await resp.json()
                if resp.status == 503:
                    break
            await asyncio.sleep(0.02)
        assert body["status"] == "unavailable"
        assert body["reason"] == "route worker crashed: RuntimeError: disk on fire"
        rt.worker.group.read = real_read  # type: ignore[method-assign]
        for _ in range(500):
            async with http.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    break
            await asyncio.sleep(0.02)
        assert resp.status == 200, "the worker was not restarted"
        assert rt.supervisor.states["route worker"].crashes >= 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_failed_start_closes_what_it_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter that fails to start: the embedded Redis it started is stopped, the store
    closed, and no task is left behind."""
    monkeypatch.delenv("KEFU_REDIS_URL", raising=False)
    rt = Runtime(basic_settings(), data_dir=tmp_path / "data")
    assert rt.embedded is not None
    [adapter] = rt.adapters.values()

    async def refuse() -> None:
        raise OSError("the channel's API is unreachable")

    monkeypatch.setattr(adapter, "start", refuse)
    before = asyncio.all_tasks()
    started: list[int] = []
    real_start = rt.embedded.start

    async def start_and_note() -> None:
        await real_start()
        assert rt.embedded is not None and rt.embedded._proc is not None
        started.append(rt.embedded._proc.pid)

    monkeypatch.setattr(rt.embedded, "start", start_and_note)
    with pytest.raises(OSError, match="unreachable"):
        async with rt:
            pytest.fail("the runtime started")
    [pid] = started
    await until(lambda: not _alive(pid))
    assert rt.embedded._proc is None
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()
    assert rt.supervisor.states == {}
