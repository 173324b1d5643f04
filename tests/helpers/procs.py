"""`kefu serve` as real subprocesses, for crash, persistence and multi-process tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers.ending import end_process
from helpers.redis_server import free_port
from router.childproc import die_with_parent


class Serve:
    """One `kefu serve` process on a free loopback port."""

    def __init__(self, config: Path | None, redis_url: str | None, cwd: Path, data_dir: Path | None = None,
                 extra: list[str] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()  # a given port: a restart that clients reconnect to
        self.base = f"http://127.0.0.1:{self.port}"
        self.cwd = cwd
        args = [sys.executable, "-m", "router", "serve", "--port", str(self.port)]
        if config:
            args += ["--config", str(config)]
        if redis_url:
            args += ["--redis-url", redis_url]
        if data_dir:
            args += ["--data-dir", str(data_dir)]
        args += extra or []
        self.log = cwd / f"serve-{self.port}.log"
        self._out = self.log.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("KEFU_REDIS_URL", None)
        # SIGTERM when the test run dies, so a killed pytest leaves no server (and its embedded
        # redis) behind. Tests build Serve on the main thread, which lives as long as the run.
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=die_with_parent())

    # Generous: a cold start imports jieba, SQLAlchemy and aiohttp, which takes tens of seconds on a
    # 2-core machine running the suite side by side; a server that fails exits, and that fails at once.
    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"kefu serve exited {self.proc.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"kefu serve not ready in {timeout}s: {self.output()}")

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._out.close()

    def stop(self, timeout: float = 20) -> int:
        end_process(self.proc, grace=timeout)
        if not self._out.closed:
            self._out.close()
        return int(self.proc.returncode)


def children(pid: int) -> dict[int, str]:
    """Linux: the live child processes of `pid`, by pid, with their command names."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, tail = stat.read_text().rpartition(")")
        except OSError:
            continue  # it exited while we looked
        state, ppid = tail.split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(stat.parent.name)] = head.partition("(")[2]
    return found


def gone(pid: int, timeout: float = 10) -> bool:
    """Linux: whether `pid` has exited (a zombie counts: nobody may reap it) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False
